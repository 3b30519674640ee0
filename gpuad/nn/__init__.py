"""`gpuad.nn`: functional building blocks for small networks; parameters are pytrees (dicts).

Every layer is a pair: `init_<layer>(key, ...)` returns a dict of arrays, and `<layer>(params,
...)` applies it. The functions are written with `gpuad.numpy`, so they work on plain arrays and
inside `grad`, `jvp` and `checkpoint` alike, on NumPy and CuPy arrays.

    >>> import gpuad as ga, gpuad.numpy as gnp
    >>> from gpuad import nn
    >>> params = nn.init_lstm_cell(0, n_in=2, n_hidden=8)
    >>> h, c = nn.lstm_zero_state(batch=4, n_hidden=8)
    >>> h, c = nn.lstm_cell(params, (h, c), gnp.ones((4, 2)))
    >>> probs = nn.softmax(nn.gelu(h))

- `initializers`: `glorot_uniform`, `glorot_normal`, `he_normal`, `orthogonal`.
- `layers`: `linear`, `mlp`, `rnn_cell`, `lstm_cell`, `gru_cell`, `layer_norm`, `embed`,
  `dropout` (and their `init_*`); `standardize` and `one_hot` (jax.nn's).
- `activations` (jax.nn's names and values): `relu`, `relu6`, `leaky_relu`, `elu`, `gelu`,
  `silu`/`swish`, `softplus`, `sigmoid`, `log_sigmoid`, `softmax`, `log_softmax`,
  `logsumexp`.
- `losses`: `mse`, `softmax_cross_entropy`, `binary_cross_entropy_with_logits`.

A `key` is an int seed or a `numpy.random.Generator`; initial values are drawn on the host (the
same numbers on every backend) and placed on the default backend's device. The default dtype is
float64, as in NumPy; pass `dtype=np.float32` for GPU training.

Conventions: batch first within a time step (`x` of shape (batch, features)); weight matrices
are (n_in, n_out), applied as `x @ w + b`.
"""
from .activations import (elu, gelu, leaky_relu, log_sigmoid, log_softmax, logsumexp, relu,
                          relu6, sigmoid, silu, softmax, softplus, swish)
from .initializers import glorot_normal, glorot_uniform, he_normal, orthogonal
from .layers import (dropout, embed, gru_cell, init_embed, init_gru_cell, init_layer_norm,
                     init_linear, init_lstm_cell, init_mlp, init_rnn_cell, layer_norm, linear,
                     lstm_cell, lstm_zero_state, mlp, one_hot, rnn_cell, standardize)
from .losses import binary_cross_entropy_with_logits, mse, softmax_cross_entropy

__all__ = ["binary_cross_entropy_with_logits", "dropout", "elu", "embed", "gelu",
           "glorot_normal", "glorot_uniform", "gru_cell", "he_normal", "init_embed",
           "init_gru_cell", "init_layer_norm", "init_linear", "init_lstm_cell", "init_mlp",
           "init_rnn_cell", "layer_norm", "leaky_relu", "linear", "log_sigmoid", "log_softmax",
           "logsumexp", "lstm_cell", "lstm_zero_state", "mlp", "mse", "one_hot", "orthogonal",
           "relu", "relu6", "rnn_cell", "sigmoid", "silu", "softmax", "softmax_cross_entropy",
           "softplus", "standardize", "swish"]

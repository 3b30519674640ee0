"""`gpuad.nn` layers: linear, MLP, Elman/LSTM/GRU cells, layer normalization, embeddings,
dropout; and the index and normalization helpers `one_hot` and `standardize` (jax.nn's).

Every layer is a pair: `init_<layer>(key, ...)` returns a dict of arrays, and `<layer>(params,
...)` applies it (`layer_norm(x, **params)` for the normalization). Batch axes come first, the
features last; weight matrices are (n_in, n_out), applied as `x @ w + b`.
"""
import operator

import numpy as np

from .. import backend
from .. import numpy as gnp
from ..scipy.special import expit
from ..trace import primal_value
from .initializers import _generator, _place, _zeros, glorot_uniform, orthogonal


# ---- dense and recurrent ---------------------------------------------------------------------
def init_linear(key, n_in, n_out, dtype=np.float64, w_init=glorot_uniform):
    """Parameters of `linear`: `{"w": (n_in, n_out) from w_init, "b": zeros (n_out,)}`.

    Example:
      >>> params = init_linear(0, 3, 2)
      >>> params["w"].shape, params["b"].shape
      ((3, 2), (2,))
    """
    rng = _generator(key, "init_linear")
    return {"w": w_init(rng, (n_in, n_out), dtype=dtype), "b": _zeros((n_out,), dtype)}


def linear(params, x):
    """`x @ w + b`: x of shape (..., n_in) to (..., n_out).

    Example:
      >>> linear(init_linear(0, 3, 2), gnp.ones((5, 3))).shape
      (5, 2)
    """
    _check_features("linear", x, params["w"])
    return gnp.matmul(x, params["w"]) + params["b"]


def _check_features(name, x, w):
    n_x, n_w = gnp.shape(x)[-1:], gnp.shape(w)[0]
    if n_x != (n_w,):
        raise ValueError(f"{name}: input has shape {tuple(gnp.shape(x))} but the weights expect "
                         f"{n_w} features on the last axis (w has shape {tuple(gnp.shape(w))}).")


def _init_recurrent(name, key, n_in, n_hidden, n_gates, dtype):
    """Input weights Glorot-uniform, recurrent weights orthogonal per gate block (so the
    recurrence neither explodes nor vanishes at the start), biases zero."""
    rng = _generator(key, name)
    w_x = glorot_uniform(rng, (n_in, n_gates * n_hidden), dtype=dtype)
    blocks = [backend.to_numpy_array(orthogonal(rng, (n_hidden, n_hidden), dtype=dtype))
              for _ in range(n_gates)]
    w_h = _place(np.concatenate(blocks, axis=1), dtype)
    return {"w_x": w_x, "w_h": w_h, "b": _zeros((n_gates * n_hidden,), dtype)}


def init_rnn_cell(key, n_in, n_hidden, dtype=np.float64):
    """Parameters of `rnn_cell`: `w_x` (n_in, H), `w_h` (H, H) orthogonal, `b` (H,) zeros.

    Example:
      >>> init_rnn_cell(0, 2, 8)["w_h"].shape
      (8, 8)
    """
    return _init_recurrent("init_rnn_cell", key, n_in, n_hidden, 1, dtype)


def rnn_cell(params, h, x):
    """One step of an Elman RNN: `h' = tanh(x @ w_x + h @ w_h + b)`.

    Args:
      params: from `init_rnn_cell`.
      h: the hidden state, (batch, H).
      x: the input, (batch, n_in).

    Returns:
      The new hidden state, (batch, H).

    Example:
      >>> p = init_rnn_cell(0, 2, 8)
      >>> rnn_cell(p, gnp.zeros((4, 8)), gnp.ones((4, 2))).shape
      (4, 8)
    """
    _check_features("rnn_cell", x, params["w_x"])
    return gnp.tanh(gnp.matmul(x, params["w_x"]) + gnp.matmul(h, params["w_h"]) + params["b"])


def init_lstm_cell(key, n_in, n_hidden, dtype=np.float64, forget_bias=1.0):
    """Parameters of `lstm_cell`: `w_x` (n_in, 4H), `w_h` (H, 4H), `b` (4H,), gates in the
    order input, forget, cell, output.

    The forget gate's bias starts at `forget_bias` (1.0, as Jozefowicz et al. 2015 recommend) so
    the cell remembers by default; the other biases start at 0.

    Example:
      >>> init_lstm_cell(0, 2, 8)["b"][8:16]      # the forget gate's block
      array([1., 1., 1., 1., 1., 1., 1., 1.])
    """
    params = _init_recurrent("init_lstm_cell", key, n_in, n_hidden, 4, dtype)
    b = np.zeros(4 * n_hidden)
    b[n_hidden:2 * n_hidden] = forget_bias
    params["b"] = _place(b, dtype)
    return params


def lstm_zero_state(batch, n_hidden, dtype=np.float64):
    """The initial `(h, c)` of `lstm_cell`: two zero arrays of shape (batch, n_hidden) on the
    default backend."""
    return _zeros((batch, n_hidden), dtype), _zeros((batch, n_hidden), dtype)


def lstm_cell(params, state, x):
    """One step of an LSTM (Hochreiter & Schmidhuber 1997, with forget gate, Gers et al. 2000).

        i, f, g, o = split(x @ w_x + h @ w_h + b, 4)
        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h' = sigmoid(o) * tanh(c')

    Args:
      params: from `init_lstm_cell`.
      state: `(h, c)`, each (batch, H); `lstm_zero_state` makes the first.
      x: the input, (batch, n_in).

    Returns:
      The new state `(h', c')`; `h'` is the output.

    Example:
      >>> p = init_lstm_cell(0, 2, 8)
      >>> h, c = lstm_cell(p, lstm_zero_state(4, 8), gnp.ones((4, 2)))
    """
    _check_features("lstm_cell", x, params["w_x"])
    h, c = state
    n = gnp.shape(h)[-1]
    z = gnp.matmul(x, params["w_x"]) + gnp.matmul(h, params["w_h"]) + params["b"]
    i = expit(z[..., :n])
    f = expit(z[..., n:2 * n])
    g = gnp.tanh(z[..., 2 * n:3 * n])
    o = expit(z[..., 3 * n:])
    c = f * c + i * g
    return o * gnp.tanh(c), c


def init_gru_cell(key, n_in, n_hidden, dtype=np.float64):
    """Parameters of `gru_cell`: `w_x` (n_in, 3H), `w_h` (H, 3H), `b` (3H,) for the input side
    and `b_h` (3H,) for the recurrent side, gates in the order reset, update, candidate.

    Example:
      >>> init_gru_cell(0, 2, 8)["w_h"].shape
      (8, 24)
    """
    params = _init_recurrent("init_gru_cell", key, n_in, n_hidden, 3, dtype)
    params["b_h"] = _zeros((3 * n_hidden,), dtype)
    return params


def gru_cell(params, h, x):
    """One step of a GRU (Cho et al. 2014), in the form PyTorch and cuDNN use:

        r_x, z_x, n_x = split(x @ w_x + b, 3);  r_h, z_h, n_h = split(h @ w_h + b_h, 3)
        r = sigmoid(r_x + r_h);  z = sigmoid(z_x + z_h)
        n = tanh(n_x + r * n_h)
        h' = (1 - z) * n + z * h

    Args:
      params: from `init_gru_cell`.
      h: the hidden state, (batch, H).
      x: the input, (batch, n_in).

    Returns:
      The new hidden state, (batch, H).

    Example:
      >>> p = init_gru_cell(0, 2, 8)
      >>> gru_cell(p, gnp.zeros((4, 8)), gnp.ones((4, 2))).shape
      (4, 8)
    """
    _check_features("gru_cell", x, params["w_x"])
    n = gnp.shape(h)[-1]
    a = gnp.matmul(x, params["w_x"]) + params["b"]
    b = gnp.matmul(h, params["w_h"]) + params["b_h"]
    r = expit(a[..., :n] + b[..., :n])
    z = expit(a[..., n:2 * n] + b[..., n:2 * n])
    cand = gnp.tanh(a[..., 2 * n:] + r * b[..., 2 * n:])
    return (1.0 - z) * cand + z * h


def init_mlp(key, sizes, dtype=np.float64, w_init=glorot_uniform):
    """Parameters of `mlp`: a list of `init_linear` dicts, one per consecutive pair of `sizes`.

    Example:
      >>> [p["w"].shape for p in init_mlp(0, [3, 16, 1])]
      [(3, 16), (16, 1)]
    """
    if len(sizes) < 2:
        raise ValueError(f"init_mlp: sizes must list at least the input and output sizes, "
                         f"got {list(sizes)}")
    rng = _generator(key, "init_mlp")
    return [init_linear(rng, a, b, dtype, w_init) for a, b in zip(sizes[:-1], sizes[1:])]


def mlp(params, x, activation=gnp.tanh):
    """A multilayer perceptron: `linear` layers with `activation` between them (not after the
    last, so the output is unbounded logits or regression values).

    Example:
      >>> mlp(init_mlp(0, [3, 16, 1]), gnp.ones((5, 3))).shape
      (5, 1)
    """
    for layer in params[:-1]:
        x = activation(linear(layer, x))
    return linear(params[-1], x)


# ---- normalization ---------------------------------------------------------------------------
def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None):
    """`(x - mean) / sqrt(variance + epsilon)`, by default with x's own mean and variance along
    `axis` (jax.nn.standardize).

    Args:
      x: a floating array.
      axis: an int, a tuple of ints, or None (all axes).
      mean, variance: optional, broadcastable against x; by default x's mean and variance along
        `axis`, kept as size-1 axes.
      epsilon: added to the variance.
      where: optional boolean array broadcastable to x: the elements the mean and variance are
        taken over (every element is standardized).

    The variance is the two-pass `mean((x - mean(x))**2)`, JAX's `algorithm="stable"`. JAX's
    default `"fast"`, `mean(x**2) - mean(x)**2`, cancels catastrophically when the mean is
    large against the spread (in float32, values near 1e4 with spread 1 leave no correct digit),
    so it is not offered. With `mean` given and `variance` not, the variance is still x's own
    (as JAX documents it), not the spread around the given mean.

    Example:
      >>> standardize(gnp.asarray([1.0, 2.0, 3.0]), epsilon=0.0)
      array([-1.22474487,  0.        ,  1.22474487])
    """
    mask = None if where is None else primal_value(where)
    if mask is not None and (getattr(mask, "dtype", None) is None or mask.dtype.kind != "b"):
        raise TypeError(f"standardize: where must be a boolean array, got "
                        f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if variance is None:
        own_mean = _masked_mean(x, axis, mask)
        d = x - own_mean
        variance = _masked_mean(d * d, axis, mask)
        if mean is None:
            mean = own_mean
    elif mean is None:
        mean = _masked_mean(x, axis, mask)
    return (x - mean) / gnp.sqrt(variance + epsilon)


def _masked_mean(x, axis, mask):
    if mask is None:
        return gnp.mean(x, axis=axis, keepdims=True)
    raw = primal_value(x)
    xp = backend.namespace(raw)
    count = xp.sum(xp.broadcast_to(mask, raw.shape), axis=axis, keepdims=True)
    return gnp.sum(gnp.where(mask, x, 0.0), axis=axis, keepdims=True) / count.astype(raw.dtype)


def init_layer_norm(n_features, dtype=np.float64):
    """Parameters of `layer_norm`: `{"scale": ones (n_features,), "offset": zeros
    (n_features,)}`, so that `layer_norm(x, **params)` starts as plain standardization.

    Example:
      >>> p = init_layer_norm(4)
      >>> layer_norm(gnp.ones((2, 4)) * gnp.arange(4.0), **p).shape
      (2, 4)
    """
    return {"scale": _place(np.ones(n_features), dtype), "offset": _zeros((n_features,), dtype)}


def layer_norm(x, scale=None, offset=None, axis=-1, epsilon=1e-5):
    """Layer normalization (Ba et al. 2016): `standardize(x, axis, epsilon=epsilon) * scale +
    offset`, the statistics taken per example over the feature axes.

    Args:
      x: a floating array (..., features).
      scale, offset: optional, broadcastable against the normalized axes of x without enlarging
        x (e.g. (features,) for axis=-1); from `init_layer_norm`.
      axis: the normalized axes: an int or a tuple of ints.
      epsilon: added to the variance (PyTorch's and jax.nn.standardize's 1e-5).

    Example:
      >>> layer_norm(gnp.asarray([[1.0, 3.0]]), scale=gnp.asarray([2.0, 2.0]), epsilon=0.0)
      array([[-2.,  2.]])
    """
    shape = tuple(gnp.shape(x))
    for name, p in (("scale", scale), ("offset", offset)):
        if p is not None and np.broadcast_shapes(shape, tuple(gnp.shape(p))) != shape:
            raise ValueError(f"layer_norm: {name} of shape {tuple(gnp.shape(p))} would enlarge x "
                             f"of shape {shape} when broadcast; give it the shape of the "
                             f"normalized axes.")
    y = standardize(x, axis=axis, epsilon=epsilon)
    if scale is not None:
        y = y * scale
    if offset is not None:
        y = y + offset
    return y


# ---- indices ---------------------------------------------------------------------------------
def _integer_indices(name, ids):
    raw = primal_value(ids)
    if not hasattr(raw, "dtype"):
        raw = np.asarray(raw)
    if raw.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got {raw.dtype}; cast them with "
                        f".astype(int) if they hold whole numbers.")
    return raw


def one_hot(x, num_classes, *, dtype=np.float64, axis=-1):
    """One-hot encoding: `out[..., k, ...] = (x[...] == k)` for k in range(num_classes), along a
    new axis `axis` (jax.nn.one_hot).

    Args:
      x: integer array of any shape. Indices outside [0, num_classes) give all-zero rows, as
        in JAX.
      num_classes: the length of the new axis.
      dtype: of the result; float64 by default, NumPy's default float (JAX's is float32).
      axis: where the new axis goes in the result, in [-(x.ndim + 1), x.ndim].

    Returns:
      An array of shape x.shape with num_classes inserted at `axis`, on x's device; a constant
      (no derivative flows through an index).

    Example:
      >>> one_hot(np.array([2, 0]), 3)
      array([[0., 0., 1.],
             [1., 0., 0.]])
    """
    raw = _integer_indices("one_hot", x)
    num_classes = operator.index(num_classes)
    if num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be >= 0, got {num_classes}")
    ndim = raw.ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"one_hot: axis {axis} is out of range for a result with {ndim} axes")
    axis = axis % ndim
    xp = backend.namespace(raw)
    shape = [1] * ndim
    shape[axis] = num_classes
    classes = xp.arange(num_classes).reshape(shape)
    return (xp.expand_dims(raw, axis) == classes).astype(dtype)


def init_embed(key, vocab_size, features, dtype=np.float64):
    """The table of `embed`: (vocab_size, features), entries N(0, 1) (PyTorch's nn.Embedding;
    flax's nn.Embed uses N(0, 1 / features)).

    Example:
      >>> init_embed(0, 10, 4).shape
      (10, 4)
    """
    rng = _generator(key, "init_embed")
    return _place(rng.standard_normal((int(vocab_size), int(features))), dtype)


def embed(table, ids):
    """The rows of `table` that `ids` name: `table[ids]`, differentiable in the table (the
    gradient adds each row's cotangents, repeated ids accumulating).

    Args:
      table: (vocab_size, ...) floating, e.g. from `init_embed`.
      ids: integer array of any shape, each in [0, vocab_size). A negative id is an error
        rather than counting from the end.

    Returns:
      An array of shape ids.shape + table.shape[1:].

    Example:
      >>> embed(gnp.asarray([[0.0, 1.0], [2.0, 3.0]]), np.array([[1, 1, 0]])).shape
      (1, 3, 2)
    """
    raw = _integer_indices("embed", ids)
    vocab = gnp.shape(table)[0]
    if raw.size and (int(raw.min()) < 0 or int(raw.max()) >= vocab):
        raise ValueError(f"embed: ids must be in [0, {vocab}) for a table of shape "
                         f"{tuple(gnp.shape(table))}, got values in [{int(raw.min())}, "
                         f"{int(raw.max())}].")
    return gnp.take(table, raw, axis=0)


# ---- regularization --------------------------------------------------------------------------
def dropout(x, rate, key=None):
    """Inverted dropout: zero each element with probability `rate`, scale the rest by
    `1 / (1 - rate)` so the expected value is unchanged.

    The mask is drawn with `gnp.random`, so it is determined by the random state: with
    `key=None`, the global state (`gnp.random.seed`, `get_state`), which `gpuad.checkpoint`
    saves and restores, so a recomputation draws the same mask; with `key` a state from
    `gnp.random.get_state()` (a `(seed, counter)` pair), exactly that draw, and the global state is
    left as it was.

    Args:
      x: an array (batch, ...).
      rate: the drop probability, in [0, 1). `rate=0` returns `x` itself (use it at evaluation).
      key: None or a `(seed, counter)` random state.

    Returns:
      An array of x's shape and dtype.

    Example:
      >>> gnp.random.seed(0)
      >>> y = dropout(gnp.ones((2, 4)), 0.5)    # entries are 0.0 or 2.0
    """
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    if rate == 0.0:
        return x
    raw = primal_value(x)
    dtype = raw.dtype if getattr(raw, "dtype", np.dtype(float)).kind == "f" else np.float64
    keep = backend.namespace(raw).asarray(1.0 - rate, dtype=dtype)
    if key is None:
        mask = gnp.random.bernoulli(keep, size=gnp.shape(x), dtype=dtype)
    else:
        saved = gnp.random.get_state()
        gnp.random.set_state(key)
        try:
            mask = gnp.random.bernoulli(keep, size=gnp.shape(x), dtype=dtype)
        finally:
            gnp.random.set_state(saved)
    return x * (mask * (1.0 / (1.0 - rate)))

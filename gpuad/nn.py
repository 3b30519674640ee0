"""`gpuad.nn`: functional building blocks for small networks; parameters are pytrees (dicts).

Every layer is a pair: `init_<layer>(key, ...)` returns a dict of arrays, and `<layer>(params,
...)` applies it. The functions are written with `gpuad.numpy`, so they work on plain arrays and
inside `grad`, `jvp` and `checkpoint` alike, on NumPy and CuPy arrays.

    >>> import gpuad as ga, gpuad.numpy as gnp
    >>> from gpuad import nn
    >>> params = nn.init_lstm_cell(0, n_in=2, n_hidden=8)
    >>> h, c = nn.lstm_zero_state(batch=4, n_hidden=8)
    >>> h, c = nn.lstm_cell(params, (h, c), gnp.ones((4, 2)))

A `key` is an int seed or a `numpy.random.Generator`; initial values are drawn on the host (the
same numbers on every backend) and placed on the default backend's device. The default dtype is
float64, as in NumPy; pass `dtype=np.float32` for GPU training.

Conventions: batch first within a time step (`x` of shape (batch, features)); weight matrices
are (n_in, n_out), applied as `x @ w + b`.
"""
import math

import numpy as np

from . import backend
from . import numpy as gnp
from .scipy.special import expit, logsumexp
from .trace import primal_value


# ---- initializers ----------------------------------------------------------------------------
def _generator(key, name):
    if isinstance(key, np.random.Generator):
        return key
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return np.random.default_rng(int(key))
    raise TypeError(f"{name}: key must be an int seed or a numpy.random.Generator, got "
                    f"{type(key).__name__}")


def _fans(shape, name):
    shape = tuple(int(n) for n in shape)
    if len(shape) == 0:
        raise ValueError(f"{name}: shape () has no fan-in; give a shape with at least one axis")
    if len(shape) == 1:
        return shape[0], shape[0]
    return math.prod(shape[:-1]), shape[-1]


def _place(values, dtype):
    return backend.to_device_array(np.asarray(values, dtype=dtype))


def _check_float(dtype, name):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{name}: dtype must be a floating type (float32, float64), got {dtype}")
    return dtype


def glorot_uniform(key, shape, dtype=np.float64):
    """Glorot & Bengio (2010) uniform: U(-a, a) with `a = sqrt(6 / (fan_in + fan_out))`.

    Args:
      key: an int seed or a `numpy.random.Generator` (advanced by the draw).
      shape: the array's shape; the last axis is the output axis, the product of the others is
        the fan-in (a 1-d shape uses its length for both).
      dtype: a floating dtype.

    Returns:
      An array of `shape` and `dtype` on the default backend.

    Example:
      >>> w = glorot_uniform(0, (3, 4))     # |w| <= sqrt(6 / 7)
    """
    dtype = _check_float(dtype, "glorot_uniform")
    fan_in, fan_out = _fans(shape, "glorot_uniform")
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return _place(_generator(key, "glorot_uniform").uniform(-limit, limit, shape), dtype)


def glorot_normal(key, shape, dtype=np.float64):
    """Glorot & Bengio (2010) normal: N(0, 2 / (fan_in + fan_out)). Args as `glorot_uniform`.

    Example:
      >>> w = glorot_normal(np.random.default_rng(0), (64, 32), dtype=np.float32)
    """
    dtype = _check_float(dtype, "glorot_normal")
    fan_in, fan_out = _fans(shape, "glorot_normal")
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return _place(std * _generator(key, "glorot_normal").standard_normal(shape), dtype)


def he_normal(key, shape, dtype=np.float64):
    """He et al. (2015) normal for ReLU layers: N(0, 2 / fan_in). Args as `glorot_uniform`.

    Example:
      >>> w = he_normal(0, (128, 64))
    """
    dtype = _check_float(dtype, "he_normal")
    fan_in, _ = _fans(shape, "he_normal")
    return _place(math.sqrt(2.0 / fan_in) * _generator(key, "he_normal").standard_normal(shape),
                  dtype)


def orthogonal(key, shape, gain=1.0, dtype=np.float64):
    """Saxe et al. (2014) orthogonal: a random matrix with orthonormal rows or columns, times
    `gain`.

    The array is viewed as a matrix (product of the leading axes, last axis); the QR
    decomposition of a Gaussian matrix, with the signs of R's diagonal folded into Q, gives a
    uniformly distributed (Haar) orthogonal factor. For a square matrix `w.T @ w = gain**2 I`.

    Example:
      >>> w = orthogonal(0, (4, 4))
      >>> bool(np.allclose(w.T @ w, np.eye(4)))
      True
    """
    dtype = _check_float(dtype, "orthogonal")
    rows, cols = _fans(shape, "orthogonal")
    if len(tuple(shape)) == 1:
        rows = 1
    a = _generator(key, "orthogonal").standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _place(gain * q.reshape(shape), dtype)


def _zeros(shape, dtype):
    return _place(np.zeros(shape), dtype)


# ---- layers ----------------------------------------------------------------------------------
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


# ---- losses ----------------------------------------------------------------------------------
def mse(pred, target):
    """The mean squared error `mean((pred - target) ** 2)` over all elements.

    Shapes must match exactly: broadcasting (B, 1) against (B,) would silently average a
    (B, B) matrix of errors, so it is refused.

    Example:
      >>> mse(gnp.asarray([1.0, 2.0]), gnp.asarray([1.0, 4.0]))
      np.float64(2.0)
    """
    if tuple(gnp.shape(pred)) != tuple(gnp.shape(target)):
        raise ValueError(f"mse: pred has shape {tuple(gnp.shape(pred))} but target has shape "
                         f"{tuple(gnp.shape(target))}; reshape one so they match.")
    d = pred - target
    return gnp.mean(d * d)


def softmax_cross_entropy(logits, labels):
    """The mean cross-entropy of `softmax(logits)` against `labels`, via logsumexp (stable).

    Args:
      logits: (..., C) floating.
      labels: integer class indices of shape (...) in [0, C), or probabilities (one-hot or soft)
        of shape (..., C).

    Returns:
      A scalar: `mean(logsumexp(logits) - logits[label])` over the leading axes.

    Example:
      >>> logits = gnp.asarray([[2.0, 0.0], [0.0, 2.0]])
      >>> softmax_cross_entropy(logits, np.array([0, 1]))         # log(1 + e^-2)
      np.float64(0.1269280110429727)
    """
    shape = tuple(gnp.shape(logits))
    raw = primal_value(labels)
    kind = getattr(getattr(raw, "dtype", None), "kind", None)
    log_z = logsumexp(logits, axis=-1)
    if kind is not None and kind in "iu":
        if tuple(raw.shape) != shape[:-1]:
            raise ValueError(f"softmax_cross_entropy: integer labels have shape "
                             f"{tuple(raw.shape)}; for logits of shape {shape} they must have "
                             f"shape {shape[:-1]} (one class index per row).")
        if raw.size and (int(raw.min()) < 0 or int(raw.max()) >= shape[-1]):
            raise ValueError(f"softmax_cross_entropy: labels must be class indices in "
                             f"[0, {shape[-1]}), got values in [{int(raw.min())}, "
                             f"{int(raw.max())}].")
        picked = gnp.take_along_axis(logits, gnp.expand_dims(raw, -1), axis=-1)[..., 0]
        return gnp.mean(log_z - picked)
    if kind is None or kind not in "f":
        raise TypeError(f"softmax_cross_entropy: labels must be integer class indices or "
                        f"floating probabilities, got {getattr(raw, 'dtype', type(raw).__name__)}")
    if tuple(gnp.shape(labels)) != shape:
        raise ValueError(f"softmax_cross_entropy: probability labels have shape "
                         f"{tuple(gnp.shape(labels))} but logits have shape {shape}; they must "
                         f"match (or pass integer labels of shape {shape[:-1]}).")
    return gnp.mean(log_z * gnp.sum(labels, axis=-1) - gnp.sum(labels * logits, axis=-1))


def binary_cross_entropy_with_logits(logits, targets):
    """The mean binary cross-entropy of `sigmoid(logits)` against `targets` in [0, 1].

    Computed as `log(1 + exp(x)) - t * x` with `logaddexp(0, x)`, which equals
    `-t log sigmoid(x) - (1 - t) log(1 - sigmoid(x))` and never overflows or takes log(0), for
    any size of logit.

    Example:
      >>> binary_cross_entropy_with_logits(gnp.asarray([1000.0, -1000.0]),
      ...                                  gnp.asarray([1.0, 0.0]))
      np.float64(0.0)
    """
    if tuple(gnp.shape(logits)) != tuple(gnp.shape(targets)):
        raise ValueError(f"binary_cross_entropy_with_logits: logits have shape "
                         f"{tuple(gnp.shape(logits))} but targets have shape "
                         f"{tuple(gnp.shape(targets))}; they must match.")
    return gnp.mean(gnp.logaddexp(0.0, logits) - targets * logits)


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

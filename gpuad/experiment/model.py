"""The experiment's model: an LSTM reading the adding problem, with a linear readout."""
import numpy as np

import gpuad.numpy as gnp
from gpuad.checkpoint import scan
from gpuad.scipy.special import expit


def init_params(hidden, inputs=2, seed=0, dtype=np.float32):
    """Glorot-uniform input and recurrent weights, forget-gate bias 1 (Jozefowicz et al.)."""
    rng = np.random.default_rng(seed)
    limit = np.sqrt(6.0 / (inputs + hidden + 4 * hidden))
    w = rng.uniform(-limit, limit, (inputs + hidden, 4 * hidden))
    b = np.zeros(4 * hidden)
    b[hidden:2 * hidden] = 1.0
    readout = rng.uniform(-1, 1, (hidden, 1)) / np.sqrt(hidden)
    return {k: gnp.asarray(v.astype(dtype)) for k, v in
            {"w": w, "b": b, "readout": readout, "readout_b": np.zeros(1)}.items()}


def lstm_step(params):
    w, b = params["w"], params["b"]

    def step(carry, x):
        h, c = carry
        z = gnp.concatenate([x, h], axis=1) @ w + b
        i, f, o, u = gnp.split(z, 4, axis=1)
        c = expit(f) * c + expit(i) * gnp.tanh(u)
        h = expit(o) * gnp.tanh(c)
        return (h, c), None
    return step


def loss(params, xs, targets, schedule=None, counter=None):
    """Mean squared error of the readout of the last hidden state; `xs` is (T, batch, 2)."""
    batch, hidden = xs.shape[1], params["w"].shape[1] // 4
    zeros = gnp.zeros((batch, hidden), dtype=xs.dtype)
    step = lstm_step(params)
    if counter is not None:
        inner = step

        def step(carry, x):
            counter[0] += 1
            return inner(carry, x)
    (h, _), _ = scan(step, (zeros, zeros), xs, schedule=schedule)
    prediction = h @ params["readout"] + params["readout_b"]
    return gnp.mean((prediction - targets) ** 2)

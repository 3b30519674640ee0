"""The experiment's model: `gpuad.nn`'s LSTM cell reading the adding problem, scanned by
`gpuad.checkpoint.scan`, with a linear readout of the last hidden state."""
import numpy as np

from gpuad import nn
from gpuad.checkpoint import scan


def init_params(hidden, inputs=2, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return {"lstm": nn.init_lstm_cell(rng, inputs, hidden, dtype=dtype),
            "readout": nn.init_linear(rng, hidden, 1, dtype=dtype)}


def step_fn(cell, counter=None):
    """The scan body: one LSTM step on (h, c). `counter[0]` (if given) counts evaluations.
    Shared by `loss` and the preflight's dry run (`preflight.smallest_budget`), so both measure
    the same step."""
    def step(state, x):
        if counter is not None:
            counter[0] += 1
        return nn.lstm_cell(cell, state, x), None
    return step


def init_state(params, xs):
    """The zero (h, c) for a batch of `xs` (T, batch, 2)."""
    return nn.lstm_zero_state(xs.shape[1], params["lstm"]["w_h"].shape[0], dtype=xs.dtype)


def loss(params, xs, targets, schedule=None, counter=None, comm=None, microbatches=1):
    """Mean squared error of the readout of the last hidden state; `xs` is (T, batch, 2).
    `counter[0]` (if given) counts step evaluations. With `comm` (sequence parallel), `xs` is
    this rank's chunk of the time axis and the loss, of the whole sequence's last state, is the
    same on every rank."""
    (h, _), _ = scan(step_fn(params["lstm"], counter), init_state(params, xs), xs,
                     schedule=schedule, comm=comm, microbatches=microbatches)
    return nn.mse(nn.linear(params["readout"], h), targets)

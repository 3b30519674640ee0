"""End to end: an LSTM trained with plain Python-loop BPTT learns the adding problem (T = 50),
reaching a loss far below the trivial baseline of 1/6 within a bounded number of steps."""
import numpy as np

import gpuad as ga
from gpuad import nn, optim, tasks

LENGTH, BATCH, HIDDEN = 50, 32, 16
MAX_STEPS = 900          # seed 0 gets there in about 400 steps (seeds 0-5: 310 to 690)


def _predict(params, xs):
    state = nn.lstm_zero_state(xs.shape[1], HIDDEN)
    for x in xs:
        state = nn.lstm_cell(params["cell"], state, x)
    return nn.linear(params["out"], state[0])


def _loss(params, xs, ys):
    return nn.mse(_predict(params, xs), ys)


def test_lstm_learns_adding_problem():
    rng = np.random.default_rng(0)
    params = {"cell": nn.init_lstm_cell(rng, 2, HIDDEN), "out": nn.init_linear(rng, HIDDEN, 1)}
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.adam(0.02))
    state = opt.init(params)
    value_and_grad = ga.value_and_grad(_loss)
    recent = []
    for step in range(MAX_STEPS):
        xs, ys = tasks.adding_problem(BATCH, LENGTH, seed=step)
        loss, grads = value_and_grad(params, xs, ys)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        recent = (recent + [float(loss)])[-20:]
        if len(recent) == 20 and np.mean(recent) < 0.02:
            break
    xs, ys = tasks.adding_problem(512, LENGTH, seed=10**6)     # held out
    held_out = float(_loss(params, xs, ys))
    baseline = tasks.adding_baseline_loss()
    assert held_out < 0.2 * baseline, (f"after {step + 1} steps the held-out MSE is "
                                       f"{held_out:.4f}; the trivial baseline is {baseline:.4f}")

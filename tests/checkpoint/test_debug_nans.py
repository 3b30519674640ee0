"""debug_nans inside checkpointed loops: the error names the step's op, the step index and the
pass (first forward pass, recomputation in the backward pass, backward sweep), never an op
after the loop that merely reads the NaN."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import EveryK, Online, Revolve, StoreAll, scan, while_loop

SCHEDULES = [StoreAll(), EveryK(2), Revolve(2), Revolve(1), Online(2)]
T = 6


@pytest.fixture(autouse=True)
def debug_nans():
    ga.config.debug_nans = True
    with np.errstate(invalid="ignore", divide="ignore"):
        yield
    ga.config.debug_nans = False


def _xs(bad_step, value):
    xs = np.linspace(0.5, 1.5, T)
    xs[bad_step] = value
    return xs


@pytest.mark.parametrize("bad_step", [0, 3, T - 1])
@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_a_forward_nan_names_the_op_the_step_and_the_first_pass(schedule, bad_step):
    xs = _xs(bad_step, -50.0)

    def f(w):
        h, _ = scan(lambda h, x: (gnp.log(h * w + x), None), 1.0, xs, schedule=schedule)
        return gnp.sum(h)
    with pytest.raises(FloatingPointError,
                       match=rf"log \(tape position \d+\) produced a NaN in its forward result, "
                             rf"in scan step {bad_step} \(first forward pass, schedule "):
        ga.grad(f)(0.7)


@pytest.mark.parametrize("bad_step", [1, 4])
@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_a_backward_nan_names_the_op_the_step_and_the_sweep(schedule, bad_step):
    xs = _xs(bad_step, 0.0)

    def f(w):
        # sqrt(0) * 0 is finite forward; backward multiplies 0 by sqrt's infinite slope
        def step(h, x):
            return h * w + gnp.sqrt(h * 0.0 + x) * 0.0, None
        h, _ = scan(step, 1.0, xs, schedule=schedule)
        return gnp.sum(h)
    with pytest.raises(FloatingPointError,
                       match=rf"sqrt \(tape position \d+\) produced a NaN in its cotangent.*, "
                             rf"in scan step {bad_step} \(backward sweep, schedule "):
        ga.grad(f)(0.7)


@pytest.mark.parametrize("schedule", [EveryK(2), Revolve(2), Online(2)], ids=repr)
def test_a_nan_only_in_recomputation_names_that_pass(schedule):
    calls = [0]

    def step(h, x):
        calls[0] += 1
        shift = -50.0 if calls[0] > T else 0.0  # impure: NaN from the first recomputation on
        return gnp.log(h * 0.5 + x + shift), None

    def f(w):
        h, _ = scan(step, w, np.linspace(0.5, 1.5, T), schedule=schedule)
        return gnp.sum(h)
    with pytest.raises(FloatingPointError,
                       match=r"log \(tape position \d+\) produced a NaN in its forward result, "
                             r"in scan step \d+ \(recomputation in the backward pass"):
        ga.grad(f)(0.7)


def test_a_nan_from_constants_alone_names_the_step():
    xs = _xs(2, -1.0)

    def f(w):
        _, ys = scan(lambda h, x: (h * w, gnp.log(x)), 1.0, xs, schedule=Revolve(2))
        return gnp.sum(ys)
    with pytest.raises(FloatingPointError,
                       match=r"the step function produced a NaN in its carry or y, in scan "
                             r"step 2 \(first forward pass"):
        ga.grad(f)(0.7)


@pytest.mark.parametrize("schedule", [StoreAll(), Online(1), Online(2)], ids=repr)
def test_while_loop_names_the_iteration(schedule):
    def f(w):
        def body(c):
            h, k = c
            return gnp.log(h * w + gnp.where(k == 3, -50.0, 0.5)), k + 1
        return while_loop(lambda c: c[1] < T, body, (1.0, 0), schedule=schedule)[0]
    with pytest.raises(FloatingPointError,
                       match=r"log \(tape position \d+\).*in while_loop iteration 3 \(first "
                             r"forward pass"):
        ga.grad(f)(0.7)


def test_without_nans_nothing_is_raised_and_the_gradient_is_unchanged():
    xs = np.linspace(0.5, 1.5, T)

    def f(w, schedule):
        return gnp.sum(scan(lambda h, x: (gnp.log(h * w + x), None), 1.0, xs,
                            schedule=schedule)[0])
    want = ga.grad(f)(0.7, StoreAll())
    for schedule in SCHEDULES:
        np.testing.assert_allclose(ga.grad(f)(0.7, schedule), want, rtol=1e-12)

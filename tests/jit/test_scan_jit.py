"""scan(step, ..., jit=True) (gpuad/jit/steps.py): the step is recorded once per call and
replayed in the first pass, every recomputation and the backward sweep of every schedule, with
values and gradients equal to jit=False's bit for bit on NumPy; gradients against finite
differences in float64; impure steps fall back to eager, where the recompute check still
raises."""
import warnings

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import (
    EveryK,
    Online,
    RecomputationMismatchError,
    Revolve,
    StoreAll,
    Tiered,
    scan,
)
from gpuad.scipy.special import expit
from gpuad.test_util import check_grads

from ..checkpoint.forced_budget import ForcedBudget

SCHEDULES = {"default": lambda: None, "StoreAll": StoreAll, "EveryK(3)": lambda: EveryK(3),
             "EveryK(1)": lambda: EveryK(1), "Revolve(1)": lambda: Revolve(1),
             "Revolve(3)": lambda: Revolve(3), "Online(2)": lambda: Online(2),
             "Budget": ForcedBudget, "Tiered": lambda: Tiered(fast=2)}

LENGTH = 9
RNG = np.random.default_rng(5)
W = RNG.standard_normal((7, 12)) * 0.4  # input 3 + hidden 4 -> 3 gates of 4
B = RNG.standard_normal(12) * 0.1
XS = RNG.standard_normal((LENGTH, 2, 3))


def gru_like(w, b, noise):
    """A carry pair, a pytree y, a closed-over bias, and (noise) gnp.random draws."""
    def step(carry, x):
        h, c = carry
        z, r, u = gnp.split(gnp.concatenate([x, h], axis=1) @ w + b, 3, axis=1)
        if noise:
            u = u + 0.1 * gnp.random.normal(size=u.shape)
        c = expit(z) * c + (1 - expit(z)) * gnp.tanh(u * expit(r))
        h = gnp.tanh(c) * 0.9
        return (h, c), {"e": gnp.mean(h * h), "s": gnp.sum(c, axis=1)}
    return step


def loss_of(schedule, jit, noise=False, use=("e", "s", "carry")):
    def loss(w, b, xs):
        init = (gnp.zeros((2, 4)), gnp.zeros((2, 4)))
        (h, c), ys = scan(gru_like(w, b, noise), init, xs, schedule=schedule, jit=jit)
        total = 0.0
        if "e" in use:
            total = total + gnp.sum(ys["e"])
        if "s" in use:
            total = total + gnp.sum(ys["s"] ** 2)
        if "carry" in use:
            total = total + gnp.sum(h * c)
        return total
    return loss


def both(schedule_name, fun, *args, seed=11):
    """fun(jit) at args for jit False and True, gnp.random seeded alike: the two results."""
    out = []
    for jit in (False, True):
        gnp.random.seed(seed)
        out.append(fun(SCHEDULES[schedule_name](), jit)(*args))
    return out


def assert_bitwise(a, b):
    la, lb = ga.tree_leaves(a), ga.tree_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("use", [("e", "s", "carry"), ("e",), ("carry",)],
                         ids=["all", "ys only", "carry only"])
def test_value_and_grad_equal_eager_bit_for_bit(name, use, recordings):
    def fun(schedule, jit):
        return ga.value_and_grad(loss_of(schedule, jit, use=use), argnums=(0, 1, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to eager
        eager, jitted = both(name, fun, W, B, XS)
    assert_bitwise(eager, jitted)
    (programs,) = recordings
    assert programs.off is None
    assert programs.primary is not None  # the backward sweep replayed the joint program


@pytest.mark.parametrize("name", ["StoreAll", "EveryK(3)", "Revolve(1)", "Online(2)", "Budget"])
def test_gnp_random_draws_replay_as_eager_ones(name, recordings):
    def fun(schedule, jit):
        return ga.value_and_grad(loss_of(schedule, jit, noise=True), argnums=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eager, jitted = both(name, fun, W, B, XS)
    assert_bitwise(eager, jitted)
    assert recordings[0].off is None
    # and the draws really are new at each step: a noiseless scan differs
    gnp.random.seed(11)
    quiet = ga.value_and_grad(loss_of(SCHEDULES[name](), True), argnums=(0, 1))(W, B, XS)
    assert quiet[0] != jitted[0]


@pytest.mark.parametrize("name", ["StoreAll", "EveryK(3)", "Revolve(1)", "Online(2)", "Budget"])
def test_gradients_match_finite_differences(name):
    check_grads(loss_of(SCHEDULES[name](), True), (W, B, XS), order=1, modes=("rev",))


@pytest.mark.parametrize("name", ["StoreAll", "Revolve(1)"])
def test_the_python_step_runs_a_few_times_not_once_per_step(name):
    calls = [0]

    def loss(w, b, xs, jit):
        inner = gru_like(w, b, False)

        def step(carry, x):
            calls[0] += 1  # counts Python calls; the values do not depend on it
            return inner(carry, x)
        init = (gnp.zeros((2, 4)), gnp.zeros((2, 4)))
        (h, c), ys = scan(step, init, xs, schedule=SCHEDULES[name](), jit=jit)
        return gnp.sum(ys["e"]) + gnp.sum(h)
    xs = np.concatenate([XS] * 4)
    results = []
    for jit in (False, True):
        calls[0] = 0
        results.append(ga.grad(lambda w: loss(w, B, xs, jit))(W))
        results.append(calls[0])
    assert_bitwise(results[0], results[2])
    assert results[1] >= len(xs)
    # forward recording + its check, joint recording + its check, one other cotangent pattern
    assert results[3] <= 5


def test_a_jitted_step_is_replayed_like_jit_true(recordings):
    def loss(w, jitted):
        step = gru_like(w, B, False)
        step = ga.jit(step) if jitted else step
        init = (gnp.zeros((2, 4)), gnp.zeros((2, 4)))
        _, ys = scan(step, init, XS, schedule=Revolve(2))
        return gnp.sum(ys["e"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_bitwise(ga.value_and_grad(loss)(W, False), ga.value_and_grad(loss)(W, True))
    assert len(recordings) == 1 and recordings[0].forward is not None


def test_plain_scan_and_forward_modes_equal_eager():
    def run(w, jit):
        init = (gnp.zeros((2, 4)), gnp.zeros((2, 4)))
        return scan(gru_like(w, B, False), init, XS, jit=jit)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_bitwise(run(W, False), run(W, True))
        dw = np.ones_like(W)
        assert_bitwise(ga.jvp(lambda w: run(w, False), (W,), (dw,)),
                       ga.jvp(lambda w: run(w, True), (W,), (dw,)))
        ws = np.stack([W, 2 * W])
        assert_bitwise(ga.vmap(lambda w: run(w, False))(ws), ga.vmap(lambda w: run(w, True))(ws))


def test_second_derivatives_run_eagerly_and_agree():
    def f(jit):
        return ga.grad(lambda w: gnp.sum(ga.grad(loss_of(Revolve(2), jit, use=("e",)))(
            w, B, XS) ** 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a further transform: eager without a warning
        assert_bitwise(f(False)(W), f(True)(W))


def test_python_float_carry_leaf():
    def loss(w, jit):
        def step(carry, x):
            s, h = carry
            h = gnp.tanh(h * w + x)
            return (s + gnp.sum(h), h), None
        (s, h), _ = scan(step, (0.0, gnp.zeros(3)), XS[:, 0], schedule=EveryK(2), jit=jit)
        return s + gnp.sum(h)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_bitwise(ga.value_and_grad(loss)(0.7, False), ga.value_and_grad(loss)(0.7, True))


def closure_counter(w):
    calls = [0]

    def step(h, x):
        calls[0] += 1
        h = gnp.tanh(h * w + x) * (1 + 0.01 * calls[0])
        return h, gnp.sum(h * h)
    return step


def numpy_generator(w):
    gen = np.random.default_rng(0)

    def step(h, x):
        h = gnp.tanh(h * w + x + gen.standard_normal(3))
        return h, gnp.sum(h * h)
    return step


def numpy_global_rng(w):
    def step(h, x):
        h = gnp.tanh(h * w + x + 0.1 * np.random.standard_normal(3))
        return h, gnp.sum(h * h)
    return step


@pytest.mark.parametrize("make_step", [closure_counter, numpy_generator, numpy_global_rng],
                         ids=lambda f: f.__name__)
def test_impure_step_warns_and_runs_eagerly(make_step):
    def grad(jit, schedule):
        np.random.seed(3)

        def loss(w):
            _, ys = scan(make_step(w), gnp.zeros(3), XS[:, 0], schedule=schedule, jit=jit)
            return gnp.sum(ys)
        return ga.grad(loss)(0.7)
    with pytest.warns(UserWarning, match=r"scan\(jit=True\): the step is not replayed"):
        jitted = grad(True, StoreAll())
    assert_bitwise(grad(False, StoreAll()), jitted)
    # under a recomputing schedule the recompute check still catches the impurity
    with pytest.warns(UserWarning, match="not replayed"):
        with pytest.raises(RecomputationMismatchError, match="first forward pass"):
            grad(True, Revolve(2))


def test_value_dependent_python_branch_is_refused():
    def loss(w):
        def step(h, x):
            h = gnp.tanh(h * w + x)
            if float(gnp.sum(h)) > 0:  # a branch on the carry's value
                h = -h
            return h, None
        h, _ = scan(step, gnp.zeros(3), XS[:, 0], jit=True)
        return gnp.sum(h)
    with pytest.raises(ga.ConcretizationError, match="float"):
        ga.grad(loss)(0.7)


def test_jit_with_comm_is_refused():
    with pytest.raises(ValueError, match="jit=True with comm"):
        scan(lambda c, x: (c, x), 0.0, XS, comm=object(), jit=True)

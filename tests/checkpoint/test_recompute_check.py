"""Every step checkpointing recomputes is checked against the first forward pass
(gpuad/checkpoint/verify.py): impure steps raise RecomputationMismatchError under every
recomputing schedule and `checkpoint`, never under StoreAll; pure ones never raise."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import (
    Budget,
    EveryK,
    Online,
    RecomputationMismatchError,
    Revolve,
    StoreAll,
    Tiered,
    checkpoint,
    scan,
    while_loop,
)

from .forced_budget import ForcedBudget

LENGTH = 8
XS = np.random.default_rng(7).standard_normal((LENGTH, 3))
H0 = np.random.default_rng(8).standard_normal(3)
W = 0.7

# schedules that recompute steps at this length, with `checkpoint` around StoreAll's steps
RECOMPUTING = {"EveryK(2)": lambda: EveryK(2), "EveryK(1)": lambda: EveryK(1),
               "Revolve(1)": lambda: Revolve(1), "Revolve(2)": lambda: Revolve(2),
               "Online(1)": lambda: Online(1), "Online(2)": lambda: Online(2),
               "Budget": ForcedBudget,
               "Tiered": lambda: Tiered(fast=1), "Tiered(fast, slow)": lambda: Tiered(
                   fast=60, slow="1MB", schedule=Revolve(3)),
               "checkpoint": "checkpoint"}


def numpy_generator(w):
    gen = np.random.default_rng(0)  # made outside the step: recomputation draws anew
    return lambda h, x: gnp.tanh(h * w + x + gen.standard_normal(3))


def numpy_global_rng(w):
    return lambda h, x: gnp.tanh(h * w + x + 0.1 * np.random.standard_normal(3))


def closure_counter(w):
    calls = [0]

    def step(h, x):
        calls[0] += 1
        return gnp.tanh(h * w + x) * (1 + 0.01 * calls[0])
    return step


def mutable_state(w):
    state = {"scale": 1.0}

    def step(h, x):
        state["scale"] *= 1.1
        return gnp.tanh(h * w * state["scale"] + x)
    return step


def pure_gnp_random(w):
    return lambda h, x: gnp.tanh(h * w + x + 0.1 * gnp.random.normal(size=3))


IMPURE = [numpy_generator, numpy_global_rng, closure_counter, mutable_state]


def loss_of(make_step, schedule):
    def loss(w):
        update = make_step(w)

        def step(h, x):
            h = update(h, x)
            return h, gnp.sum(h * h)
        if schedule == "checkpoint":
            _, ys = scan(checkpoint(step), H0, XS, schedule=StoreAll())
        else:
            _, ys = scan(step, H0, XS, schedule=schedule)
        return gnp.sum(ys)
    return loss


def grad_of(make_step, schedule):
    np.random.seed(3)
    gnp.random.seed(3)
    return ga.grad(loss_of(make_step, schedule))(W)


@pytest.fixture(autouse=True)
def _numpy_global_state():
    saved = np.random.get_state()
    yield
    np.random.set_state(saved)


@pytest.mark.parametrize("make_step", IMPURE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", list(RECOMPUTING))
def test_impure_step_raises_under_recomputation(make_step, name):
    schedule = RECOMPUTING[name]
    schedule = schedule() if callable(schedule) else schedule
    with pytest.raises(RecomputationMismatchError, match="first forward pass"):
        grad_of(make_step, schedule)
    if isinstance(schedule, Budget):
        assert not isinstance(schedule.chosen, StoreAll)  # the budget did force recomputation


@pytest.mark.parametrize("make_step", IMPURE, ids=lambda f: f.__name__)
def test_impure_step_under_store_all_does_not_raise(make_step):
    g = grad_of(make_step, StoreAll())
    assert np.isfinite(g)


@pytest.mark.parametrize("name", list(RECOMPUTING))
def test_pure_step_with_gnp_random_matches_store_all(name):
    schedule = RECOMPUTING[name]
    schedule = schedule() if callable(schedule) else schedule
    assert grad_of(pure_gnp_random, schedule) == grad_of(pure_gnp_random, StoreAll())


def test_issue_example_numpy_generator_off_restores_old_behaviour():
    """The issue's case: forward values agree, gradients did not (no warning). With the check
    off it is the old (wrong) answer again; on, an error."""
    ga.config.recompute_check = "off"
    stored = grad_of(numpy_generator, StoreAll())
    revolved = grad_of(numpy_generator, Revolve(2))
    assert abs(stored - revolved) > 1e-3
    ga.config.recompute_check = "exact"
    with pytest.raises(RecomputationMismatchError):
        grad_of(numpy_generator, Revolve(2))


def test_message_names_step_leaf_difference_causes_and_fix():
    calls = [0]

    def loss(w):
        def step(carry, x):
            calls[0] += 1
            h = gnp.tanh(carry["h"] * w + x)
            return {"h": h, "n": carry["n"] + 1}, (gnp.sum(h), h * calls[0])
        _, (a, b) = scan(step, {"h": H0, "n": 0}, XS, schedule=EveryK(4))
        return gnp.sum(a) + gnp.sum(b)
    with pytest.raises(RecomputationMismatchError) as info:
        ga.grad(loss)(W)
    text = str(info.value)
    # EveryK(4) recomputes the first segment (steps 0-3) last; step 0 is checked first
    assert "scan (schedule EveryK(4)): recomputing step 0" in text
    assert "y[1]: largest difference" in text
    assert "carry['h']" not in text and "y[0]" not in text  # those did not change
    first = np.tanh(H0 * W + XS[0])
    assert f"largest difference {np.max(np.abs(first * 1 - first * 9)):.6g}" in text
    for words in ("np.random", "default_rng", "counter in a closure", "mutable Python state",
                  "gnp.random", "in the carry", "recompute_check = 'off'"):
        assert words in text


def test_while_loop_online_raises_and_store_all_does_not():
    gen = np.random.default_rng(0)

    def loss(w, schedule):
        def body(c):
            h, k = c
            return gnp.tanh(h * w + gen.standard_normal(3)), k + 1
        h, _ = while_loop(lambda c: c[1] < LENGTH, body, (H0, 0), schedule=schedule)
        return gnp.sum(h * h)
    assert np.isfinite(ga.grad(loss)(W, StoreAll()))
    with pytest.raises(RecomputationMismatchError,
                       match=r"while_loop \(schedule Online\(2\)\): recomputing iteration"):
        ga.grad(loss)(W, Online(2))


def test_checkpoint_of_a_function_names_it():
    gen = np.random.default_rng(0)

    def layer(w, x):
        return gnp.tanh(x @ w + gen.standard_normal(2))
    x = np.random.default_rng(1).standard_normal((4, 3))
    w = np.random.default_rng(2).standard_normal((3, 2))
    with pytest.raises(RecomputationMismatchError,
                       match=r"checkpoint\(.*layer\): recomputing the function.*\n  output: "
                             r"largest difference"):
        ga.grad(lambda w: gnp.sum(checkpoint(layer)(w, x)))(w)


def ulp_noise(w):
    """A step whose every other evaluation is off by one ulp (as a GPU reduction can be)."""
    calls = [0]

    def step(h, x):
        calls[0] += 1
        h = gnp.tanh(h * w + x)
        return h if calls[0] % 2 else h * (1 + np.finfo(np.float64).eps)
    return step


@pytest.mark.parametrize("shape", [(3,), (40, 30)], ids=["small", "large"])
def test_allclose_tolerates_one_ulp_exact_does_not(shape):
    h0 = np.random.default_rng(4).standard_normal(shape)
    xs = np.random.default_rng(5).standard_normal((LENGTH,) + shape)

    def loss(w):
        update = ulp_noise(w)
        _, ys = scan(lambda h, x: (update(h, x), gnp.sum(h)), h0, xs, schedule=Revolve(2))
        return gnp.sum(ys)
    with pytest.raises(RecomputationMismatchError, match="'exact'"):
        ga.grad(loss)(W)
    ga.config.recompute_check = "allclose"
    ga.grad(loss)(W)
    # and allclose still catches what is not rounding
    with pytest.raises(RecomputationMismatchError, match="'allclose'"):
        grad_of(numpy_generator, Revolve(2))


def test_large_leaves_are_checked_by_checksum():
    gen = np.random.default_rng(0)
    h0 = np.random.default_rng(4).standard_normal((40, 30))
    xs = np.random.default_rng(5).standard_normal((LENGTH, 40, 30))

    def loss(w):
        def step(h, x):
            h = gnp.tanh(h * w + x)
            return h + 1e-3 * gen.standard_normal(h.shape), None
        h, _ = scan(step, h0, xs, schedule=EveryK(2))
        return gnp.sum(h)
    with pytest.raises(RecomputationMismatchError, match=r"carry: its bits differ \(the first "
                                                         r"pass kept a checksum"):
        ga.grad(loss)(W)
    ga.config.recompute_check = "allclose"
    with pytest.raises(RecomputationMismatchError,
                       match=r"carry: the sum of its elements went from .* so the largest "
                             r"difference is at least"):
        ga.grad(loss)(W)


def test_nan_matches_nan_and_python_scalar_leaves():
    def loss(w):
        def step(c, x):
            h, t = c
            h = gnp.tanh(h * w + x)
            # NaN in every recomputation too, as an array and as a Python float
            return (h, t + 1), (x * np.nan, 0.5 * t, float("nan"))
        (h, t), (nans, b, _) = scan(step, (H0, 0), XS, schedule=Revolve(2))
        assert t == LENGTH and np.isnan(ga.stop_gradient(nans)).all()
        return gnp.sum(b) + gnp.sum(h)
    for mode in ("exact", "allclose"):
        ga.config.recompute_check = mode
        assert np.isfinite(ga.grad(loss)(W))


@pytest.mark.parametrize("schedule", sorted(k for k in RECOMPUTING if k != "checkpoint"))
def test_a_python_float_carry_leaf_matches_its_recomputed_0d_array(schedule):
    """A step run plainly keeps a Python float a float; replayed on a tape it returns a 0-d
    float64 array: one value, not a mismatch. A float that really changes still is one."""
    def loss(w, drift):
        def step(c, x):
            h, t = c
            t = t + 0.5 + (next(drift) if drift is not None else 0.0)
            return (gnp.tanh(h * w + x) * t, t), t
        (h, t), ts = scan(step, (H0, 0.25), XS, schedule=RECOMPUTING[schedule]())
        return gnp.sum(h) + gnp.sum(ts) * w
    want = ga.grad(loss)(W, None)
    assert np.isfinite(want)
    np.testing.assert_allclose(ga.grad(loss)(W, None), want, rtol=0)
    drifting = (k * 1e-3 for k in range(10 ** 6))
    with pytest.raises(RecomputationMismatchError):
        ga.grad(loss)(W, drifting)


def test_vjp_called_twice_is_checked_again():
    calls = [0]

    def f(w):
        def step(h, x):
            calls[0] += 1
            if calls[0] > 3 * LENGTH:  # impure only from the second backward pass on
                h = h * 2
            return gnp.tanh(h * w + x), None
        h, _ = scan(step, H0, XS, schedule=Revolve(2))
        return gnp.sum(h)
    _, vjp_fn = ga.vjp(f, W)
    vjp_fn(1.0)
    with pytest.raises(RecomputationMismatchError):
        for _ in range(3):
            vjp_fn(1.0)


def test_inputs_are_not_modified_and_results_unchanged_by_the_check():
    h0, xs = H0.copy(), XS.copy()
    on = grad_of(closure_counter, StoreAll())
    for name in ("EveryK(2)", "Revolve(2)", "Online(2)"):
        assert grad_of(pure_gnp_random, RECOMPUTING[name]()) == \
            grad_of(pure_gnp_random, StoreAll())
    ga.config.recompute_check = "off"
    assert grad_of(closure_counter, StoreAll()) == on
    assert np.array_equal(h0, H0) and np.array_equal(xs, XS)


@pytest.mark.parametrize("name", list(RECOMPUTING))
def test_python_float_leaves_stay_python_floats_in_recomputation(name):
    """A Python float in the carry (or a checkpointed function's arguments) was boxed as a
    float64 array for the recomputation, where the first pass had the Python float: the check
    raised on a pure step, and with it off float32 math became float64 (another gradient)."""
    schedule = RECOMPUTING[name]
    schedule = schedule() if callable(schedule) else schedule
    xs = XS.astype(np.float32)
    scaled = checkpoint(lambda h, s: h * s)

    def loss(w, schedule):
        def step(c, x):
            h, s = c
            h = gnp.tanh(h * w + x)
            return (h, s), gnp.sum(h) * s  # s passes through as a Python float
        if schedule == "checkpoint":
            step = checkpoint(step)
            schedule = StoreAll()
        (h, s), ys = scan(step, (H0.astype(np.float32), 0.5), xs, schedule=schedule)
        return gnp.sum(ys) + gnp.sum(scaled(h, 0.25))
    want = ga.grad(loss)(np.float32(W), StoreAll())
    got = ga.grad(loss)(np.float32(W), schedule)
    assert want.dtype == got.dtype == np.float32 and got == want


def perturbed_at(call):
    """A pure step except for its evaluation number `call`, whose carry is nudged."""
    def make(w):
        calls = [0]

        def step(h, x):
            calls[0] += 1
            h = gnp.tanh(h * w + x)
            return h * (1 + 1e-6) if calls[0] == call + 1 else h
        return step
    return make


@pytest.mark.parametrize("name", ["EveryK(2)", "Revolve(1)", "Revolve(2)", "Budget", "Tiered",
                                  "Tiered(fast, slow)", "Online(2)"])
def test_an_impure_evaluation_anywhere_raises_or_leaves_the_gradient_exact(name):
    # Recomputed carries that only feed further advances are not compared (region.advance):
    # a wrong one must still either be caught where its effect reaches a record or a snapshot,
    # or reach no tape, the gradient then being StoreAll's to the bit. Every evaluation is
    # tried as the wrong one.
    schedule = RECOMPUTING[name]
    counter = [0]

    def counting(w):
        def step(h, x):
            counter[0] += 1
            return gnp.tanh(h * w + x)
        return step
    grad_of(counting, schedule())
    evaluations = counter[0]
    assert evaluations > LENGTH + 2  # the schedule recomputes
    # right answers: StoreAll's gradient, or that of the function nudged at step k (a wrong
    # first-pass evaluation of a step the plan evaluates once makes another function)
    exact = [grad_of(perturbed_at(k), StoreAll()) for k in range(-1, LENGTH)]
    raised = 0
    for call in range(evaluations):
        try:
            g = grad_of(perturbed_at(call), schedule())
        except RecomputationMismatchError:
            raised += 1
            continue
        assert g in exact, f"evaluation {call}: a wrong gradient without an error"
    assert raised >= LENGTH // 2  # the recomputed steps' records, at least

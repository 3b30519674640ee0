"""while_loop(cond, body, init, jit=True) (gpuad/jit/steps.py, as scan's jit=True): the body is
recorded once per call and replayed in each trip of the first pass, every recomputation and the
backward sweep (StoreAll, Online(k)) and in the plain loop, with values and gradients equal to
jit=False's bit for bit on NumPy; gradients against finite differences in float64; the
condition stays eager and sets a trip count that depends on the data; impure bodies fall back
to eager, where the recompute check still raises."""
import warnings

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import Online, RecomputationMismatchError, Revolve, StoreAll, while_loop
from gpuad.test_util import check_grads

from .test_scan_jit import assert_bitwise

SCHEDULES = {"default": lambda: None, "StoreAll": StoreAll, "Online(1)": lambda: Online(1),
             "Online(2)": lambda: Online(2), "Online(3)": lambda: Online(3),
             "Online(32)": lambda: Online(32)}

RNG = np.random.default_rng(19)
W = RNG.standard_normal((4, 4)) * 0.6
B = RNG.standard_normal(4) * 0.3
H0 = RNG.standard_normal((2, 4))
LIMIT = 6.0


def rnn_body(w, b):
    """A dict carry: the state h, the energy s it has spent, an array trip counter k."""
    def body(c):
        h = gnp.tanh(c["h"] @ w + b)
        return {"h": h, "s": c["s"] + gnp.mean(h * h), "k": c["k"] + 1}
    return body


def spend(w, b, h0, limit, schedule=None, jit=False, body=None):
    """Run until the energy passes `limit` (or 60 trips): the trip count depends on the data."""
    init = {"h": h0, "s": gnp.zeros(()), "k": np.asarray(0)}
    return while_loop(lambda c: (c["s"] < limit) & (c["k"] < 60),
                      body or rnn_body(w, b), init, schedule=schedule, jit=jit)


def loss_of(schedule, jit, limit=LIMIT):
    def loss(w, b, h0):
        c = spend(w, b, h0, limit, schedule, jit)
        return gnp.sum(c["h"] * h0) + c["s"] ** 2
    return loss


def trips(w=W, b=B, h0=H0, limit=LIMIT):
    return int(spend(w, b, h0, limit)["k"])


def test_the_trip_count_depends_on_the_data():
    counts = {trips(), trips(w=W * 0.8), trips(limit=2.0), trips(h0=H0 * 0)}
    assert len(counts) > 2 and all(1 < n < 60 for n in counts)


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("limit", [LIMIT, 2.0], ids=["limit 6", "limit 2"])
def test_value_and_grad_equal_eager_bit_for_bit(name, limit, recordings):
    def run(jit):
        loss = loss_of(SCHEDULES[name](), jit, limit)
        return ga.value_and_grad(loss, argnums=(0, 1, 2))(W, B, H0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to eager
        eager, jitted = run(False), run(True)
    assert_bitwise(eager, jitted)
    (programs,) = recordings
    assert programs.name == "while_loop" and programs.off is None
    assert programs.primary is not None  # the backward sweep replayed the joint program
    if name != "StoreAll":  # the first pass and the recomputations replayed the forward one
        assert programs.forward is not None


@pytest.mark.parametrize("name", ["StoreAll", "Online(2)"])
def test_gradients_match_finite_differences(name):
    rng = np.random.default_rng(7)
    w, b, h0 = rng.standard_normal((4, 4)) * 0.6, rng.standard_normal(4) * 0.3, \
        rng.standard_normal((2, 4))
    n = trips(w, b, h0)
    assert 3 < n < 60
    check_grads(loss_of(SCHEDULES[name](), True), (w, b, h0), order=1, modes=("rev",))
    assert trips(w + 1e-6, b, h0) == trips(w - 1e-6, b, h0) == n  # no trip at the edge


@pytest.mark.parametrize("name", ["StoreAll", "Online(2)"])
def test_the_python_body_runs_a_few_times_not_once_per_trip(name):
    calls = [0]

    def loss(w, jit):
        inner = rnn_body(w, B)

        def body(c):
            calls[0] += 1  # counts Python calls; the values do not depend on it
            return inner(c)
        c = spend(w, B, H0, LIMIT, SCHEDULES[name](), jit, body=body)
        return gnp.sum(c["h"]) + c["s"]
    results = []
    for jit in (False, True):
        calls[0] = 0
        results.append(ga.grad(loss)(W, jit))
        results.append(calls[0])
    assert_bitwise(results[0], results[2])
    assert results[1] >= trips()
    # forward recording + its check, joint recording + its check, one other cotangent pattern
    assert results[3] <= 5


def test_the_plain_loop_replays_the_body():
    calls = [0]

    def body(c):
        calls[0] += 1
        return rnn_body(W, B)(c)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eager = spend(W, B, H0, LIMIT)
        jitted = spend(W, B, H0, LIMIT, jit=True, body=body)
    assert_bitwise(eager, jitted)
    assert int(jitted["k"]) > 3 and calls[0] == 2  # recorded, then checked once eagerly


def test_a_jitted_body_is_replayed_like_jit_true(recordings):
    def loss(w, jitted):
        body = rnn_body(w, B)
        c = spend(w, B, H0, LIMIT, Online(2), body=ga.jit(body) if jitted else body)
        return gnp.sum(c["h"]) + c["s"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_bitwise(ga.value_and_grad(loss)(W, False), ga.value_and_grad(loss)(W, True))
    assert len(recordings) == 1 and recordings[0].forward is not None
    assert recordings[0].primary is not None


def test_forward_modes_and_second_order_equal_eager():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # further transforms: eager without a warning
        dw = np.ones_like(W)
        assert_bitwise(ga.jvp(lambda w: spend(w, B, H0, LIMIT), (W,), (dw,)),
                       ga.jvp(lambda w: spend(w, B, H0, LIMIT, jit=True), (W,), (dw,)))
        for name in ("StoreAll", "Online(2)"):
            args, tangents = (W, B, H0), (dw, np.ones_like(B), np.ones_like(H0))
            assert_bitwise(ga.hvp(loss_of(SCHEDULES[name](), False), args, tangents),
                           ga.hvp(loss_of(SCHEDULES[name](), True), args, tangents))
            second = [ga.grad(lambda w, jit=jit: gnp.sum(
                ga.grad(loss_of(SCHEDULES[name](), jit))(w, B, H0) ** 2))(W)
                for jit in (False, True)]
            assert_bitwise(*second)


@pytest.mark.parametrize("name", ["StoreAll", "Online(2)"])
def test_vmap_with_a_batched_condition_equals_eager(name):
    ws = np.stack([W, 0.7 * W, 0.9 * W])
    limits = np.array([LIMIT, 2.0, 4.0])
    assert len({trips(w=w, limit=lim) for w, lim in zip(ws, limits)}) > 1
    def run(jit):
        got = ga.vmap(lambda w, lim: spend(w, B, H0, lim, jit=jit))(ws, limits)
        grads = ga.vmap(lambda w, lim: ga.grad(loss_of(SCHEDULES[name](), jit, lim))(
            w, B, H0))(ws, limits)
        return got, grads
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (want, want_grads), (got, grads) = run(False), run(True)
    assert_bitwise(got, want)
    assert_bitwise(grads, want_grads)
    # each example ends as its own loop would
    np.testing.assert_array_equal(want["k"], [trips(w=w, limit=lim)
                                              for w, lim in zip(ws, limits)])


def test_the_condition_stays_eager_and_may_read_values():
    def loss(w, jit):
        c = while_loop(lambda c: float(c["s"]) < LIMIT and int(c["k"]) < 60, rnn_body(w, B),
                       {"h": H0, "s": gnp.zeros(()), "k": np.asarray(0)}, Online(2), jit=jit)
        return gnp.sum(c["h"]) + c["s"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_bitwise(ga.value_and_grad(loss)(W, False), ga.value_and_grad(loss)(W, True))


def test_a_python_number_in_the_carry_runs_eagerly_and_agrees(recordings):
    def loss(w, jit):  # k a Python int: a recording would make it a 0-d array (NEP 50)
        c = while_loop(lambda c: c[1] < 7, lambda c: (gnp.tanh(c[0] @ w + B), c[1] + 1),
                       (H0, 0), Online(2), jit=jit)
        return gnp.sum(c[0]) * c[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_bitwise(ga.value_and_grad(loss)(W, False), ga.value_and_grad(loss)(W, True))
    assert recordings[0].forward is None and recordings[0].primary is None


def test_no_trips_returns_init():
    h, s = ga.value_and_grad(lambda h0: gnp.sum(spend(W, B, h0, -1.0, jit=True)["h"]))(H0)
    assert h == np.sum(H0) and np.array_equal(s, np.ones_like(H0))
    c = spend(W, B, H0, -1.0, jit=True)
    assert c["h"] is H0


def closure_counter(w):
    calls = [0]

    def body(c):
        calls[0] += 1
        h = gnp.tanh(c["h"] @ w + B) * (1 + 0.01 * calls[0])
        return {"h": h, "s": c["s"] + gnp.mean(h * h), "k": c["k"] + 1}
    return body


def numpy_generator(w):
    gen = np.random.default_rng(0)

    def body(c):
        h = gnp.tanh(c["h"] @ w + B + 0.1 * gen.standard_normal(4))
        return {"h": h, "s": c["s"] + gnp.mean(h * h), "k": c["k"] + 1}
    return body


@pytest.mark.parametrize("make_body", [closure_counter, numpy_generator],
                         ids=lambda f: f.__name__)
def test_impure_body_warns_and_runs_eagerly(make_body):
    def grad(jit, schedule):
        def loss(w):
            c = spend(w, B, H0, LIMIT, schedule, jit, body=make_body(w))
            return gnp.sum(c["h"]) + c["s"]
        return ga.grad(loss)(W)
    with pytest.warns(UserWarning, match=r"while_loop\(jit=True\): the body is not replayed"):
        jitted = grad(True, StoreAll())
    assert_bitwise(grad(False, StoreAll()), jitted)
    # under a recomputing schedule the recompute check still catches the impurity
    with pytest.warns(UserWarning, match="not replayed"):
        with pytest.raises(RecomputationMismatchError,
                           match=r"while_loop \(schedule Online\(2\)\): recomputing iteration"):
            grad(True, Online(2))


def test_value_dependent_python_branch_in_the_body_is_refused():
    def loss(w):
        def body(c):
            h = gnp.tanh(c["h"] @ w + B)
            if float(gnp.sum(h)) > 0:  # a branch on the carry's value
                h = -h
            return {"h": h, "s": c["s"] + gnp.mean(h * h), "k": c["k"] + 1}
        return spend(w, B, H0, LIMIT, jit=True, body=body)["s"]
    with pytest.raises(ga.ConcretizationError, match="float"):
        ga.grad(loss)(W)


def test_bad_input_errors_name_while_loop():
    with pytest.raises(TypeError, match=r"while_loop: Revolve\(2\) needs the length"):
        ga.grad(loss_of(Revolve(2), True))(W, B, H0)
    with pytest.raises(TypeError, match="while_loop"):
        spend(W, B, H0, LIMIT, schedule="StoreAll", jit=True)

    def widening(c):  # the carry's h changes shape
        return {"h": gnp.concatenate([c["h"], c["h"]]), "s": c["s"] + 1.0, "k": c["k"] + 1}
    for run in (lambda: spend(W, B, H0, LIMIT, jit=True, body=widening),
                lambda: ga.grad(lambda w: spend(w, B, H0, LIMIT, Online(2), True,
                                                widening)["s"])(W)):
        with pytest.raises(ValueError, match=r"while_loop: carry leaf 0 changed from shape "
                                             r"\(2, 4\)"):
            run()

"""The executor, `checkpoint` and `while_loop` on hand-written plans: every way of running a
recurrence gives the plain loop's gradient, in every composition of transforms."""
import gc
import weakref

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import checkpoint, scan, while_loop
from gpuad.checkpoint.actions import Advance, Free, Record, Restore, Reverse, Snapshot
from gpuad.checkpoint.plan import Plan


class HandPlan:
    """A schedule given as a function length -> actions (independent of the schedules module)."""

    def __init__(self, make):
        self.make = make

    def plan(self, length, **sizes):
        return Plan(length, self.make(length), f"HandPlan({self.make.__name__})")


def store_all(n):
    return [Record(0, n)] + [Reverse(i) for i in range(n - 1, -1, -1)]


def every_step(n):  # carries only: each step recomputed once
    acts = []
    for i in range(n - 1):
        acts += [Snapshot(i), Advance(i, i + 1)]
    acts += [Record(n - 1, n), Reverse(n - 1)]
    for i in range(n - 2, -1, -1):
        acts += [Restore(i), Free(i), Record(i, i + 1), Reverse(i)]
    return acts


def one_snapshot(n):  # the initial carry only: quadratic recomputation
    acts = [Snapshot(0), Advance(0, n - 1), Record(n - 1, n), Reverse(n - 1)]
    for i in range(n - 2, -1, -1):
        acts += [Restore(0)] + [Advance(0, i)] * (i > 0) + [Record(i, i + 1), Reverse(i)]
    return acts


PLANS = {"store_all": HandPlan(store_all), "every_step": HandPlan(every_step),
         "one_snapshot": HandPlan(one_snapshot)}


@pytest.fixture(scope="module")
def rnn():
    rng = np.random.default_rng(0)
    return dict(W=rng.standard_normal((4, 4)) * 0.5, U=rng.standard_normal((3, 4)),
                h0=rng.standard_normal((2, 4)), xs=rng.standard_normal((6, 2, 3)))


def rnn_loss(W, U, h0, xs, schedule):
    def step(h, x):
        h = gnp.tanh(h @ W + x @ U)
        return h, gnp.sum(h ** 2)
    h, ys = scan(step, h0, xs, schedule=schedule)
    return gnp.sum(h) + gnp.sum(ys * gnp.arange(1.0, 1.0 + len(xs)))


def unrolled_loss(W, U, h0, xs):
    h, total = h0, 0.0
    for i, x in enumerate(xs):
        h = gnp.tanh(h @ W + x @ U)
        total = total + (i + 1.0) * gnp.sum(h ** 2)
    return gnp.sum(h) + total


@pytest.mark.parametrize("plan", sorted(PLANS))
def test_scan_gradient_equals_unrolled_loop(rnn, plan):
    args = (rnn["W"], rnn["U"], rnn["h0"], rnn["xs"])
    expected = ga.grad(unrolled_loss, argnums=(0, 1, 2, 3))(*args)
    value, got = ga.value_and_grad(rnn_loss, argnums=(0, 1, 2, 3))(*args, PLANS[plan])
    assert value == pytest.approx(unrolled_loss(*args), rel=1e-12)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("plan", ["every_step", "one_snapshot"])
def test_scan_second_order_and_forward_mode(rnn, plan):
    U, h0, xs = rnn["U"], rnn["h0"], rnn["xs"][:4]
    f = lambda W: rnn_loss(W, U, h0, xs, PLANS[plan])  # noqa: E731
    ga.check_grads(f, (rnn["W"],), order=2, modes=("fwd", "rev"))
    v = np.random.default_rng(1).standard_normal(rnn["W"].shape)
    np.testing.assert_allclose(ga.hvp(f, (rnn["W"],), (v,)),
                               ga.hvp(lambda W: unrolled_loss(W, U, h0, xs), (rnn["W"],), (v,)),
                               rtol=1e-10)


def test_scan_step_count_follows_the_plan(rnn):
    calls = []

    def loss(W):
        def step(h, x):
            calls.append(1)
            return gnp.tanh(h @ W + x), None
        return gnp.sum(scan(step, rnn["h0"], rnn["xs"][:, :, :1] * np.ones(4),
                            schedule=PLANS["one_snapshot"])[0])

    ga.grad(loss)(rnn["W"])
    n = 6
    assert len(calls) == n * (n - 1) // 2 + n  # p(n, 1) advances plus one recording per step


def test_scan_vjp_function_can_be_called_twice(rnn):
    f = lambda W: rnn_loss(W, rnn["U"], rnn["h0"], rnn["xs"], PLANS["one_snapshot"])  # noqa
    _, vjp_fn = ga.vjp(f, rnn["W"])
    first, second = vjp_fn(1.0)[0], vjp_fn(2.0)[0]
    np.testing.assert_allclose(2 * first, second, rtol=1e-12)
    np.testing.assert_allclose(first, ga.grad(f)(rnn["W"]), rtol=1e-12)


def test_scan_jacobians_through_vmap(rnn):
    def f(W):
        return scan(lambda h, _: (gnp.tanh(h @ W), None), rnn["h0"], length=3,
                    schedule=PLANS["one_snapshot"])[0]

    def plain(W):
        h = rnn["h0"]
        for _ in range(3):
            h = gnp.tanh(h @ W)
        return h
    np.testing.assert_allclose(ga.jacrev(f)(rnn["W"]), ga.jacfwd(plain)(rnn["W"]), rtol=1e-10)


def test_scan_keeps_nothing_after_grad(rnn):
    held = []

    def loss(W):
        def step(h, x):
            h = gnp.tanh(h @ W + x @ rnn["U"])
            held.append(weakref.ref(ga.stop_gradient(h)))  # the array under the tracers
            return h, None
        return gnp.sum(scan(step, rnn["h0"], rnn["xs"], schedule=PLANS["every_step"])[0])

    ga.grad(loss)(rnn["W"])
    gc.collect()
    assert held and not any(r() is not None for r in held)


def test_scan_pytrees_ints_and_untraced_runs(rnn):
    def step(carry, x):
        h, count = carry["h"], carry["n"]
        return {"h": gnp.tanh(h @ rnn["W"] + x["a"]), "n": count + 1}, (h[0], None)

    xs = {"a": rnn["xs"][:, :, :1] * np.ones(4)}
    carry, (firsts, nothing) = scan(step, {"h": rnn["h0"], "n": 0}, xs,
                                    schedule=PLANS["store_all"])
    assert carry["n"] == 6 and firsts.shape == (6, 4) and nothing is None
    got = ga.grad(lambda a: gnp.sum(scan(step, {"h": rnn["h0"], "n": 0}, {"a": a},
                                         schedule=PLANS["every_step"])[0]["h"]))(xs["a"])
    exp = ga.grad(lambda a: gnp.sum(scan(step, {"h": rnn["h0"], "n": 0}, {"a": a},
                                         schedule=PLANS["store_all"])[0]["h"]))(xs["a"])
    np.testing.assert_allclose(got, exp, rtol=1e-12)


def test_scan_errors_name_the_problem(rnn):
    with pytest.raises(ValueError, match="different leading lengths"):
        scan(lambda c, x: (c, x), 0.0, (np.ones(3), np.ones(4)))
    with pytest.raises(ValueError, match="give xs or length"):
        scan(lambda c, x: (c, x), 0.0)
    with pytest.raises(ValueError, match="carry leaf 0 changed"):
        scan(lambda c, x: (gnp.concatenate([c, c]), None), np.ones(2), length=2)
    with pytest.raises(TypeError, match="must return a pair"):
        scan(lambda c, x: c, np.ones(2), length=2)


def test_scan_refuses_a_plan_that_is_not_a_plan(rnn):
    class ActionsOnly:  # returns the bare actions: the executor needs Plan's forward_phase_end
        def plan(self, length, **sizes):
            return store_all(length)

    def loss(W):
        return gnp.sum(scan(lambda h, _: (gnp.tanh(h @ W), None), rnn["h0"], length=3,
                            schedule=ActionsOnly())[0])

    with pytest.raises(TypeError, match=r"ActionsOnly.*plan\(3\) returned list, not a Plan"):
        ga.grad(loss)(rnn["W"])


# ---- checkpoint ------------------------------------------------------------------------------

def test_checkpoint_matches_plain_in_every_order():
    rng = np.random.default_rng(2)
    W, x = rng.standard_normal((4, 4)) * 0.5, rng.standard_normal((3, 4))

    def f(W, use):
        layer = lambda h: gnp.tanh(h @ W)  # noqa: E731 - closes over the traced W
        layer = checkpoint(layer) if use else layer
        h = x
        for _ in range(3):
            h = layer(h)
        return gnp.sum(h ** 2)

    np.testing.assert_allclose(ga.grad(f)(W, True), ga.grad(f)(W, False), rtol=1e-12)
    hess = ga.hessian(lambda W: f(W, True))(W)
    np.testing.assert_allclose(hess, ga.hessian(lambda W: f(W, False))(W), rtol=1e-10)
    gg = ga.grad(lambda W: gnp.sum(ga.grad(lambda V: f(V, True))(W) ** 2))(W)
    np.testing.assert_allclose(gg, ga.grad(lambda W: gnp.sum(ga.grad(lambda V: f(V, False))(W)
                                                             ** 2))(W), rtol=1e-10)
    ga.check_grads(lambda W: f(W, True), (W,), order=2)


def test_nested_checkpoints_and_arguments():
    rng = np.random.default_rng(3)
    W, x = rng.standard_normal((4, 4)) * 0.5, rng.standard_normal((3, 4))

    def f(W, use):
        wrap = checkpoint if use else (lambda fn: fn)
        inner = wrap(lambda h: gnp.sin(h @ W))
        outer = wrap(lambda h, scale: inner(inner(h)) * scale)
        return gnp.sum(outer(x, W[0]) ** 2)

    np.testing.assert_allclose(ga.grad(f)(W, True), ga.grad(f)(W, False), rtol=1e-12)
    assert np.abs(ga.grad(f)(W, True)).sum() > 0


def test_checkpoint_recomputes_the_same_random_numbers():
    rng = np.random.default_rng(4)
    W, x = rng.standard_normal((4, 4)), rng.standard_normal((3, 4))

    def f(W, use):
        def layer(h):  # dropout
            return gnp.tanh(h @ W) * (gnp.random.uniform(size=h.shape) > 0.5) * 2.0
        layer = checkpoint(layer) if use else layer
        gnp.random.seed(7)
        return gnp.sum(layer(layer(x)))

    np.testing.assert_allclose(ga.grad(f)(W, True), ga.grad(f)(W, False), rtol=1e-12)
    gnp.random.seed(7)
    ga.grad(f)(W, True)
    after = gnp.random.get_state()
    gnp.random.seed(7)
    ga.grad(f)(W, False)
    assert gnp.random.get_state() == after  # the replay leaves the stream where it was


# ---- while_loop ------------------------------------------------------------------------------

class RecordEvery:  # a schedule by hand: `start` returning None records every step
    measures = False

    def plan(self, length, **sizes):
        return HandPlan(store_all).plan(length)

    def start(self):
        return None


def test_while_loop_with_data_dependent_trip_count():
    rng = np.random.default_rng(5)
    W, x = rng.standard_normal((3, 3)) * 0.4, rng.standard_normal(3)

    def f(W):  # stops when the norm drops: the trip count depends on the data
        def body(c):
            return gnp.tanh(c[0] @ W) * 0.9, c[1] + 1
        h, n = while_loop(lambda c: (gnp.sum(c[0] ** 2) > 0.05) & (c[1] < 50), body, (x, 0),
                          schedule=RecordEvery())
        return gnp.sum(h) * 3.0

    def unrolled(W, trips):
        h = x
        for _ in range(trips):
            h = gnp.tanh(h @ W) * 0.9
        return gnp.sum(h) * 3.0

    trips = while_loop(lambda c: (np.sum(c[0] ** 2) > 0.05) & (c[1] < 50),
                       lambda c: (np.tanh(c[0] @ W) * 0.9, c[1] + 1), (x, 0))[1]
    assert 1 < trips < 50
    np.testing.assert_allclose(ga.grad(f)(W), ga.grad(lambda W: unrolled(W, trips))(W),
                               rtol=1e-12)


def test_while_loop_without_trips_returns_init():
    out = ga.grad(lambda a: gnp.sum(while_loop(lambda c: False, lambda c: c * 2.0, a,
                                               schedule=RecordEvery())))(
        np.ones(3))
    np.testing.assert_allclose(out, np.ones(3))


def test_memory_track_sees_numpy_arrays():
    import gpuad.memory
    with gpuad.memory.track() as outer:
        keep = np.ones(200_000)
        with gpuad.memory.track() as inner:
            tmp = np.ones(500_000)
            del tmp
    assert 4_000_000 <= inner.peak_bytes < 4_400_000
    assert outer.peak_bytes >= 5_600_000 and outer.end_bytes >= 1_600_000
    del keep

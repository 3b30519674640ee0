"""`vmap` over `scan` and `while_loop`: each example scans its own time axis, under every schedule.

Reference semantics: `vmap(f)(xs) == stack([f(x) for x in xs])`, checked against the Python
loop over examples, with the batch size B different from the scan length T (B == T hides a
scan over the batch axis instead of the time axis).
"""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import Budget, EveryK, Online, Revolve, StoreAll, Tiered, scan, while_loop
from gpuad.tree import tree_flatten

T, D = 5, 3
SCHEDULES = [StoreAll(), EveryK(2), Revolve(1), Revolve(2), Online(2), Budget("50KB"),
             Tiered(3, None)]


def _array_step(c, x):
    c = gnp.tanh(c * 0.9 + gnp.sin(x["a"]) * x["b"])
    return c, gnp.sum(c ** 2)


def _tuple_step(c, x):
    h, s = c
    h = gnp.tanh(h * 0.9 + gnp.sin(x["a"]) * x["b"])
    return (h, s + gnp.sum(h)), h[0]


def _dict_step(c, x):
    h = gnp.tanh(c["h"] @ c["w"] + x["a"])
    return {"h": h, "w": c["w"] * 0.99 + x["b"][0]}, {"h": h, "n": gnp.sum(h * x["b"])}


CARRIES = {
    "array": (_array_step, lambda rng: rng.standard_normal(D)),
    "tuple": (_tuple_step, lambda rng: (rng.standard_normal(D), rng.standard_normal())),
    "dict": (_dict_step, lambda rng: {"h": rng.standard_normal(D),
                                      "w": rng.standard_normal((D, D)) * 0.5}),
}


def loss(init, xs, step, schedule):
    carry, ys = scan(step, init, xs, schedule=schedule)
    return sum(gnp.sum(leaf) for leaf in tree_flatten((carry, ys))[0])


def batch(rng, carry, size):
    """A batch of `size` initial carries and of xs with leading (time) length T."""
    make = CARRIES[carry][1]
    inits = [make(rng) for _ in range(size)]
    xs = [{"a": rng.standard_normal((T, D)), "b": rng.standard_normal((T, D))}
          for _ in range(size)]
    return inits, xs


def stacked(trees, axis=0):
    leaves = [tree_flatten(t)[0] for t in trees]
    treedef = tree_flatten(trees[0])[1]
    from gpuad.tree import tree_unflatten
    return tree_unflatten(treedef, [np.stack(column, axis=axis) for column in zip(*leaves)])


def assert_trees_close(got, want, msg):
    got_leaves, want_leaves = tree_flatten(got)[0], tree_flatten(want)[0]
    assert len(got_leaves) == len(want_leaves), msg
    for g, w in zip(got_leaves, want_leaves):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-10, atol=1e-12,
                                   err_msg=msg)


@pytest.mark.parametrize("size", [2, 7])  # fewer and more examples than steps
@pytest.mark.parametrize("carry", sorted(CARRIES))
def test_vmap_of_scan_scans_each_examples_time_axis(carry, size):
    rng = np.random.default_rng(size)
    step = CARRIES[carry][0]
    inits, xs = batch(rng, carry, size)
    for schedule in SCHEDULES:
        want = np.stack([loss(c, x, step, schedule) for c, x in zip(inits, xs)])
        got = ga.vmap(lambda c, x: loss(c, x, step, schedule))(stacked(inits), stacked(xs))
        assert_trees_close(got, want, f"{carry}, {schedule!r}")


@pytest.mark.parametrize("size", [2, 7])
def test_vmap_of_scan_with_batch_axis_one(size):
    """in_axes=1 on xs of shape (T, B, D): vmap moves the batch first, scan still slices T."""
    rng = np.random.default_rng(10 + size)
    inits, xs = batch(rng, "tuple", size)
    for schedule in (StoreAll(), Revolve(2)):
        want = np.stack([loss(c, x, _tuple_step, schedule) for c, x in zip(inits, xs)])
        f = ga.vmap(lambda c, x: loss(c, x, _tuple_step, schedule), in_axes=(0, 1))
        got = f(stacked(inits), stacked(xs, axis=1))
        assert_trees_close(got, want, f"in_axes=(0, 1), {schedule!r}")


def test_vmap_of_scan_returns_each_examples_ys():
    rng = np.random.default_rng(3)
    inits, xs = batch(rng, "dict", 4)

    def f(c, x):
        return scan(_dict_step, c, x, schedule=Revolve(2))

    want = stacked([f(c, x) for c, x in zip(inits, xs)])
    got = ga.vmap(f)(stacked(inits), stacked(xs))
    assert_trees_close(got, want, "carry and ys")
    assert np.shape(got[1]["h"]) == (4, T, D)


@pytest.mark.parametrize("size", [2, 7])
@pytest.mark.parametrize("carry", sorted(CARRIES))
def test_vmap_of_grad_through_scan(carry, size):
    rng = np.random.default_rng(20 + size)
    step = CARRIES[carry][0]
    inits, xs = batch(rng, carry, size)
    for schedule in SCHEDULES:
        g = ga.grad(lambda c, x: loss(c, x, step, schedule), argnums=(0, 1))
        want = stacked([g(c, x) for c, x in zip(inits, xs)])
        got = ga.vmap(g)(stacked(inits), stacked(xs))
        assert_trees_close(got, want, f"{carry}, {schedule!r}")


@pytest.mark.parametrize("size", [2, 7])
@pytest.mark.parametrize("carry", sorted(CARRIES))
def test_grad_of_vmap_through_scan(carry, size):
    rng = np.random.default_rng(30 + size)
    step = CARRIES[carry][0]
    inits, xs = batch(rng, carry, size)
    weights = rng.standard_normal(size)
    for schedule in SCHEDULES:
        def total(c, x):
            return gnp.sum(ga.vmap(lambda ci, xi: loss(ci, xi, step, schedule))(c, x) * weights)
        got = ga.grad(total, argnums=(0, 1))(stacked(inits), stacked(xs))
        per = [ga.grad(lambda ci, xi: loss(ci, xi, step, schedule) * w, argnums=(0, 1))(c, x)
               for c, x, w in zip(inits, xs, weights)]
        assert_trees_close(got, stacked(per), f"{carry}, {schedule!r}")


def test_grad_of_vmap_of_scan_matches_finite_differences():
    rng = np.random.default_rng(4)
    inits, xs = batch(rng, "tuple", 2)
    c, x = stacked(inits), stacked(xs)

    def f(a):
        xb = {"a": a, "b": x["b"]}
        return gnp.sum(ga.vmap(lambda ci, xi: loss(ci, xi, _tuple_step, Revolve(2)))(c, xb))

    ga.check_grads(f, (x["a"],), order=2)


# ---------------------------------------------------------------------------------------------
# An unbatched first carry: the carry becomes batched where the step makes it so (as JAX
# broadcasts it), from batched xs or from batched values the step closes over

def _closing_step(w):
    def step(c, x):
        h, k = c
        h = gnp.tanh(h * w + gnp.sin(x) * h[0])
        return (h, k + gnp.sum(h)), k
    return step


def _unbatched_loss(w, c0, xs, schedule):
    carry, ys = scan(_closing_step(w), (c0, 0.5), xs, schedule=schedule)
    return gnp.sum(carry[0]) + carry[1] + gnp.sum(ys)


@pytest.mark.parametrize("batched", ["xs", "closure", "both"])
def test_unbatched_init_under_vmap(batched):
    rng = np.random.default_rng(40)
    size = 4
    c0 = rng.standard_normal(D)
    ws = rng.standard_normal((size, D))
    xss = rng.standard_normal((size, T, D))
    w_axis = None if batched == "xs" else 0
    x_axis = None if batched == "closure" else 0
    w_of = (lambda i: ws[0]) if w_axis is None else (lambda i: ws[i])
    x_of = (lambda i: xss[0]) if x_axis is None else (lambda i: xss[i])
    grad = ga.grad(_unbatched_loss, argnums=(0, 1, 2))
    for schedule in SCHEDULES:
        f = lambda w, x: _unbatched_loss(w, c0, x, schedule)  # noqa: E731
        want = np.stack([f(w_of(i), x_of(i)) for i in range(size)])
        got = ga.vmap(f, in_axes=(w_axis, x_axis))(ws if w_axis == 0 else ws[0],
                                                     xss if x_axis == 0 else xss[0])
        assert_trees_close(got, want, f"{batched}, {schedule!r}")
        # vmap of grad: c0 is unbatched, its gradient is one per example
        per = [grad(w_of(i), c0, x_of(i), schedule) for i in range(size)]
        got = ga.vmap(lambda w, x: grad(w, c0, x, schedule), in_axes=(w_axis, x_axis))(
            ws if w_axis == 0 else ws[0], xss if x_axis == 0 else xss[0])
        assert_trees_close(got, stacked(per), f"vmap of grad, {batched}, {schedule!r}")
        # grad of vmap with respect to the unbatched c0: the examples' gradients summed
        total = ga.grad(lambda c: gnp.sum(ga.vmap(lambda w, x: _unbatched_loss(w, c, x, schedule),
                                                  in_axes=(w_axis, x_axis))(
            ws if w_axis == 0 else ws[0], xss if x_axis == 0 else xss[0])))(c0)
        assert_trees_close(total, sum(p[1] for p in per), f"grad of vmap, {batched}, {schedule!r}")


def test_unbatched_init_under_vmap_matches_finite_differences():
    rng = np.random.default_rng(41)
    c0, ws = rng.standard_normal(D), rng.standard_normal((3, D))
    xs = rng.standard_normal((T, D))
    ga.check_grads(lambda c: gnp.sum(ga.vmap(lambda w: _unbatched_loss(w, c, xs, Revolve(2)))(ws)),
                   (c0,), order=2)


# ---------------------------------------------------------------------------------------------
# while_loop: a batched condition runs the loop while any example's holds, freezing the others

WHILE_SCHEDULES = [StoreAll(), Online(1), Online(2), Online(32)]


def _grow(w, limit, schedule, count_from=0):
    """Grow a vector until its norm passes `limit`: the trip count depends on w and limit."""
    def body(c):
        v, k = c
        return v * (1.0 + gnp.sin(w) ** 2) + 0.1, k + 1
    return while_loop(lambda c: gnp.sum(c[0] ** 2) < limit, body,
                      (gnp.ones(D) * 0.5, count_from), schedule=schedule)


def _grow_loss(w, limit, schedule):
    v, _ = _grow(w, limit, schedule)
    return gnp.sum(gnp.tanh(v)) + gnp.sum(v * w)


def _trip_counts(ws, limits):
    return [int(_grow(w, lim, StoreAll())[1]) for w, lim in zip(ws, limits)]


@pytest.mark.parametrize("batched", ["closure", "limit", "both"])
def test_while_loop_with_batched_condition_freezes_finished_examples(batched):
    rng = np.random.default_rng(50)
    size = 5
    ws = rng.uniform(0.3, 1.2, (size, D))
    limits = rng.uniform(2.0, 40.0, size)
    if batched == "closure":
        limits[:] = limits[0]
    if batched == "limit":
        ws[:] = ws[0]
    assert len(set(_trip_counts(ws, limits))) > 1  # examples stop at different trips
    for schedule in WHILE_SCHEDULES:
        want = stacked([_grow(w, lim, schedule) for w, lim in zip(ws, limits)])
        got = ga.vmap(lambda w, lim: _grow(w, lim, schedule))(ws, limits)
        assert_trees_close(got, want, f"{batched}, {schedule!r}")
        grad = ga.grad(_grow_loss)
        per = np.stack([grad(w, lim, schedule) for w, lim in zip(ws, limits)])
        got = ga.vmap(lambda w, lim: grad(w, lim, schedule))(ws, limits)
        assert_trees_close(got, per, f"vmap of grad, {batched}, {schedule!r}")
        got = ga.grad(lambda w: gnp.sum(ga.vmap(lambda wi, li: _grow_loss(wi, li, schedule))(
            w, limits)))(ws)
        assert_trees_close(got, per, f"grad of vmap, {batched}, {schedule!r}")


def test_while_loop_with_batched_condition_matches_finite_differences():
    rng = np.random.default_rng(51)
    ws = rng.uniform(0.3, 1.2, (3, D))
    limits = np.array([3.0, 10.0, 30.0])
    ga.check_grads(lambda w: gnp.sum(ga.vmap(lambda wi, li: _grow_loss(wi, li, Online(2)))(
        w, limits)), (ws,), order=1, modes=("rev",))


def test_while_loop_condition_must_be_one_boolean_per_example():
    with pytest.raises(ValueError, match=r"one boolean per example, got shape \(3,\)"):
        ga.vmap(lambda v: while_loop(lambda c: c < 1.0, lambda c: c + 1.0, v))(np.zeros((2, D)))


def test_forecast_under_vmap_is_refused_not_measured_on_the_batch_axis():
    """forecast measures one step on concrete values: under vmap those have the batch axis
    first, so it would silently measure a slice of the batch as a step."""
    from gpuad.checkpoint import forecast
    W = np.random.default_rng(0).normal(size=(3, 3))

    def step(h, x):
        return gnp.tanh(h @ W + x), None

    def f(xs):
        forecast(step, gnp.zeros(3), xs)
        return gnp.sum(xs)

    with pytest.raises(TypeError, match="forecast: called under vmap"):
        ga.vmap(f)(np.ones((2, 5, 3)))
    assert forecast(step, np.zeros(3), np.ones((5, 3))).length == 5

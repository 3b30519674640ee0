"""`vmap` over `scan` and `while_loop`: each example scans its own time axis, under every schedule.

Reference semantics: `vmap(f)(xs) == stack([f(x) for x in xs])`, checked against the Python
loop over examples, with the batch size B different from the scan length T (B == T hides a
scan over the batch axis instead of the time axis).
"""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import Budget, EveryK, Online, Revolve, StoreAll, Tiered, scan
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

"""vmap: batched results equal a Python loop, across rules, fallbacks and compositions."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.scipy import linalg as sla
from gpuad.scipy import special as sp


def _looped(f, xs):
    return np.stack([f(x) for x in xs])


W = np.random.default_rng(3).standard_normal((5, 2))
FUNCTIONS = {
    "matmul_reduce": lambda x: gnp.tanh(x @ W).sum(axis=0),
    "axis_reductions": lambda x: gnp.sum(x, axis=1) + gnp.max(x, axis=0)[:3],
    "transpose_matmul": lambda x: x.T @ x,
    "einsum": lambda x: gnp.einsum("ij,jk->ik", x, W),
    "concatenate_getitem": lambda x: gnp.concatenate([x, x * 2], axis=1)[::2, 1:],
    "sort": lambda x: gnp.sort(x, axis=0),
    "where_compare": lambda x: gnp.where(x > 0, x, 0.1 * x),
    "logsumexp": lambda x: sp.logsumexp(x, axis=1),
    "reshape_advanced_index": lambda x: gnp.reshape(x, (5, 3)).transpose()[[0, 0, 2]],
    "scans": lambda x: gnp.cumsum(x, axis=1) + gnp.cumprod(x, axis=0),
    "at_add": lambda x: gnp.at(x)[[0, 0]].add(1.0),
    "pad_take_roll": lambda x: gnp.pad(x, 1)[1:-1, 1:-1] + gnp.take(x, [1, 1, 0, 2, 3], axis=1)
    + gnp.roll(x, 1, axis=0),
    "norm": lambda x: gnp.linalg.norm(x, axis=1),
    "broadcast_diagonal": lambda x: gnp.broadcast_to(x[0], (2, 5)).sum() + gnp.diagonal(x[:, :3]),
    "argmax_loop": lambda x: gnp.take_along_axis(x, gnp.argmax(x, axis=1)[:, None], axis=1),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_vmap_matches_loop(name, rng):
    xs = rng.standard_normal((4, 3, 5))
    f = FUNCTIONS[name]
    np.testing.assert_allclose(ga.vmap(f)(xs), _looped(f, xs), rtol=1e-12)


def test_batched_vectors_in_matmul_and_solve(rng):
    vs = rng.standard_normal((4, 5))
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(ga.vmap(lambda v: W.T @ v)(vs), vs @ W)
    np.testing.assert_allclose(ga.vmap(lambda b: gnp.linalg.solve(a, b))(vs[:, :3]),
                               np.linalg.solve(a, vs[:, :3].T).T)
    mats = rng.standard_normal((4, 3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(ga.vmap(lambda m: gnp.linalg.solve(m, vs[0, :3]))(mats),
                               _looped(lambda m: np.linalg.solve(m, vs[0, :3]), mats))


def test_in_axes_out_axes_and_unbatched_outputs(rng):
    xs, y = rng.standard_normal((4, 3)), rng.standard_normal(4)  # batch along axis 1: 3
    out = ga.vmap(lambda x, y: x * y, in_axes=(1, None), out_axes=1)(xs, y)
    np.testing.assert_allclose(out, xs * y[:, None])
    const = ga.vmap(lambda x: 2.0, in_axes=1)(xs)
    np.testing.assert_array_equal(const, np.full(3, 2.0))


def test_vmap_composes_with_grad_both_ways(rng):
    xs = rng.standard_normal((4, 3, 5))
    g = ga.vmap(ga.grad(lambda x: gnp.sum(gnp.sin(x) ** 2)))(xs)
    np.testing.assert_allclose(g, 2 * np.sin(xs) * np.cos(xs))
    g = ga.grad(lambda x: gnp.sum(ga.vmap(lambda r: gnp.sum(r @ W))(x)))(xs)
    np.testing.assert_allclose(g, np.broadcast_to(W.sum(1), xs.shape))
    _, t = ga.jvp(ga.vmap(lambda x: gnp.tanh(x).sum()), (xs,), (np.ones_like(xs),))
    np.testing.assert_allclose(t, (1 - np.tanh(xs) ** 2).sum((1, 2)))


def test_vmap_errors():
    with pytest.raises(ValueError, match="different sizes"):
        ga.vmap(lambda x, y: x + y)(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="no argument is batched"):
        ga.vmap(lambda x: x, in_axes=None)(np.ones(3))


# ---- linalg decompositions: native rules (NumPy's linalg batches leading axes) ---------------
def _sep(rng, shape):
    """Matrices with singular values and eigenvalues well apart."""
    u, _ = np.linalg.qr(rng.standard_normal(shape[:-1] + (shape[-1],)))
    return (u * np.array([3.0, 2.0, 1.2])) @ np.linalg.qr(rng.standard_normal((3, 3)))[0]


def _abs2(x):
    return gnp.abs(x) ** 2


LINALG = {
    "linalg.svd": lambda a: (lambda u, s, vh: (_abs2(u), s, _abs2(vh), u @ vh))(
        *gnp.linalg.svd(a, full_matrices=False)),
    "linalg.svdvals": gnp.linalg.svdvals,
    "linalg.qr": lambda a: gnp.linalg.qr(a),
    "linalg.pinv": gnp.linalg.pinv,
    "linalg.eig": lambda a: (lambda w, v: (gnp.real(w), gnp.imag(w), _abs2(v)))(
        *gnp.linalg.eig(a)),
    "linalg.eigvals": lambda a: gnp.real(gnp.linalg.eigvals(a) ** 2),
    "linalg.solve_triangular": lambda a: sla.solve_triangular(a, a[..., :2] + 1.0, lower=True),
}


@pytest.mark.parametrize("name", LINALG)
def test_linalg_decompositions_batch_natively_and_match_the_loop(name, rng):
    from gpuad.batching import BATCHING_RULES
    assert name in BATCHING_RULES
    f = LINALG[name]
    xs = np.stack([_sep(rng, (3, 3)) for _ in range(4)]) + 2.0 * np.eye(3)
    got = ga.vmap(f)(xs)
    want = [f(x) for x in xs]
    for k, g in enumerate(ga.tree_leaves(got)):
        np.testing.assert_allclose(g, np.stack([ga.tree_leaves(w)[k] for w in want]),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", LINALG)
def test_linalg_decompositions_jacobians_match_the_loop(name, rng):
    f = LINALG[name]
    x = _sep(rng, (3, 3)) + 2.0 * np.eye(3)
    leaves = lambda x: gnp.concatenate([gnp.ravel(o) for o in ga.tree_leaves(f(x))])
    jac = ga.jacrev(leaves)(x)
    out, vjp_fn = ga.vjp(leaves, x)
    rows = np.stack([vjp_fn(e)[0] for e in np.eye(out.shape[0])])
    np.testing.assert_allclose(jac, rows, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ga.jacfwd(leaves)(x), jac, rtol=1e-6, atol=1e-8)
    xs = np.stack([x, x.T, 2 * x])
    np.testing.assert_allclose(ga.vmap(ga.jacrev(leaves))(xs),
                               np.stack([ga.jacrev(leaves)(y) for y in xs]),
                               rtol=1e-10, atol=1e-12)


def test_solve_triangular_vmaps_over_vectors_and_matrices(rng):
    a = np.tril(rng.standard_normal((3, 3))) + 3 * np.eye(3)
    bs = rng.standard_normal((4, 3))
    got = ga.vmap(lambda b: sla.solve_triangular(a, b, lower=True, trans=1))(bs)
    np.testing.assert_allclose(got, np.linalg.solve(a.T, bs.T).T, rtol=1e-12)
    mats = np.stack([a, 2 * a, a + np.eye(3)])
    got = ga.vmap(lambda m: sla.solve_triangular(m, bs[0], lower=True))(mats)
    np.testing.assert_allclose(got, np.stack([np.linalg.solve(m, bs[0]) for m in mats]),
                               rtol=1e-12)


@pytest.mark.parametrize("branch", [
    lambda x: x * 2.0 if x > 0 else -x,
    lambda x: x * 2.0 if bool(gnp.sum(x) > 0) else -x,
    lambda x: x * float(x),
    lambda x: x * int(x > 0),
    lambda x: x * x.item(),
    lambda x: x[:int((x > 0).sum())],
])
def test_python_control_flow_on_a_batched_value_raises(branch):
    """Python sees one value, vmap has one per example: JAX raises there too."""
    xs = np.array([0.5, -1.0, 2.0])
    with pytest.raises(ga.ConcretizationTypeError, match="batched by vmap") as info:
        ga.vmap(branch)(xs)
    assert "gnp.where" in str(info.value) and "in_axes=None" in str(info.value)
    with pytest.raises(ga.ConcretizationTypeError, match="batched by vmap"):
        ga.vmap(ga.grad(branch))(xs)


def test_control_flow_on_unbatched_values_works_under_vmap():
    f = lambda x, n: x * 2.0 if n > 0 else x * float(n)
    np.testing.assert_array_equal(ga.vmap(f, in_axes=(0, None))(np.array([1.0, 2.0]), 3.0),
                                  [2.0, 4.0])
    np.testing.assert_array_equal(
        ga.vmap(lambda x: gnp.where(x > 0, x * 2.0, -x))(np.array([0.5, -1.0])), [1.0, 1.0])

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp


def test_quadratic_form_gradient(rng):
    a, x = rng.standard_normal((4, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(ga.grad(lambda x: x @ a @ x)(x), (a + a.T) @ x)


def test_logdet_gradient_is_inverse_transpose(rng):
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(ga.grad(lambda a: gnp.linalg.slogdet(a)[1])(a), np.linalg.inv(a).T)


def test_cholesky_gradient_of_symmetrized_input_is_symmetric(rng):
    m = rng.standard_normal((3, 3))
    a = m @ m.T + 3 * np.eye(3)
    f = lambda a: gnp.sum(gnp.linalg.cholesky((a + a.T) / 2) ** 3)
    g = ga.grad(f)(a)
    np.testing.assert_allclose(g, g.T, atol=1e-12)


def test_eigh_gradient_reads_only_lower_triangle(rng):
    m = rng.standard_normal((3, 3))
    a = m + m.T
    g = ga.grad(lambda a: gnp.linalg.eigh(a)[0][-1])(a)
    np.testing.assert_allclose(np.triu(g, 1), 0.0)


def test_shape_errors_name_the_op():
    with pytest.raises(ValueError, match="matmul: shapes"):
        gnp.matmul(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="linalg.inv: expected a square"):
        gnp.linalg.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match="einsum"):
        gnp.einsum("ij,jk->ik", np.ones((2, 3)))


def test_results_match_numpy(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    np.testing.assert_allclose(gnp.dot(a, b), np.dot(a, b))
    np.testing.assert_allclose(gnp.einsum("ij,jk->ki", a, b), np.einsum("ij,jk->ki", a, b))
    np.testing.assert_allclose(gnp.kron(a, b), np.kron(a, b))
    np.testing.assert_allclose(gnp.tensordot(a, b, 1), np.tensordot(a, b, 1))
    for ord in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        np.testing.assert_allclose(gnp.linalg.norm(a, ord), np.linalg.norm(a, ord), rtol=1e-10)


# ---- svd, qr, pinv, lstsq, matrix_power, multi_dot -------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 4, 3)])
def test_svd_qr_pinv_values_equal_numpy(rng, shape):
    a = rng.standard_normal(shape)
    for got, want in zip(gnp.linalg.svd(a, full_matrices=False),
                         np.linalg.svd(a, full_matrices=False)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gnp.linalg.svd(a, compute_uv=False),
                               np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    for got, want in zip(gnp.linalg.qr(a), np.linalg.qr(a)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gnp.linalg.pinv(a), np.linalg.pinv(a), rtol=1e-10, atol=1e-12)


def test_traced_qr_of_wide_matrix_reconstructs(rng):
    a = rng.standard_normal((2, 4))
    out = ga.jvp(lambda a: gnp.linalg.qr(a), (a,), (a,))[0]
    np.testing.assert_allclose(out[0] @ out[1], a, atol=1e-12)
    np.testing.assert_allclose(np.abs(out[1]), np.abs(np.linalg.qr(a)[1]), atol=1e-12)


def test_singular_value_gradient_is_outer_product_of_vectors(rng):
    a = rng.standard_normal((4, 3))
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    g = ga.grad(lambda a: gnp.linalg.svd(a, compute_uv=False)[0])(a)
    np.testing.assert_allclose(g, np.outer(u[:, 0], vh[0]), atol=1e-12)


def test_lstsq_matches_numpy(rng):
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    for rhs in (b, b[:, 0]):
        got, want = gnp.linalg.lstsq(a, rhs), np.linalg.lstsq(a, rhs)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    wide = rng.standard_normal((2, 4))
    got, want = gnp.linalg.lstsq(wide, b[:2, 0]), np.linalg.lstsq(wide, b[:2, 0])
    np.testing.assert_allclose(got.x, want[0], rtol=1e-10)
    assert got.residuals.shape == want[1].shape == (0,) and got.rank == want[2]


def test_matrix_power_and_multi_dot_match_numpy(rng):
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    for n in (-3, -1, 0, 1, 2, 5):
        np.testing.assert_allclose(gnp.linalg.matrix_power(a, n),
                                   np.linalg.matrix_power(a, n), rtol=1e-10)
    arrays = [rng.standard_normal(s) for s in [(4,), (4, 6), (6, 2), (2, 3), (3,)]]
    np.testing.assert_allclose(gnp.linalg.multi_dot(arrays), np.linalg.multi_dot(arrays))
    np.testing.assert_allclose(gnp.linalg.multi_dot(arrays[1:4]),
                               np.linalg.multi_dot(arrays[1:4]))


def test_pinv_gradient_at_rank_deficient_matrix_keeps_rank(rng):
    # rank 1: the rule is the derivative along rank-preserving perturbations
    u, v = rng.standard_normal((3, 1)), rng.standard_normal((1, 2))
    du, dv = rng.standard_normal((3, 1)), rng.standard_normal((1, 2))
    curve = lambda e: (u + e * du) @ (v + e * dv)  # stays rank 1
    _, t = ga.jvp(gnp.linalg.pinv, (curve(0.0),), (du @ v + u @ dv,))
    eps = 1e-6
    fd = (np.linalg.pinv(curve(eps)) - np.linalg.pinv(curve(-eps))) / (2 * eps)
    np.testing.assert_allclose(t, fd, rtol=1e-5, atol=1e-6)


def test_new_linalg_errors_name_the_op_and_the_fix(rng):
    a = rng.standard_normal((4, 3))
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        ga.grad(lambda a: gnp.sum(gnp.linalg.svd(a)[0]))(a)
    with pytest.raises(NotImplementedError, match="mode='reduced'"):
        ga.grad(lambda a: gnp.sum(gnp.linalg.qr(a, mode="complete")[0]))(a)
    with pytest.raises(ValueError, match="linalg.qr: unknown mode"):
        gnp.linalg.qr(a, mode="full")
    with pytest.raises(TypeError, match="matrix_power: the exponent must be an integer"):
        gnp.linalg.matrix_power(np.eye(2), 0.5)
    with pytest.raises(ValueError, match="linalg.matrix_power: expected a square"):
        gnp.linalg.matrix_power(a, 2)
    with pytest.raises(ValueError, match="multi_dot: shapes"):
        gnp.linalg.multi_dot([a, a])
    with pytest.raises(ValueError, match="lstsq: b must have shape"):
        gnp.linalg.lstsq(a, np.ones(3))


# ---- eig, eigvals ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32])
def test_eig_values_equal_numpy_and_are_complex(rng, dtype):
    a = rng.standard_normal((2, 3, 3))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal((2, 3, 3))
    a = a.astype(dtype)
    w, v = gnp.linalg.eig(a)
    want_w, want_v = np.linalg.eig(a)
    assert w.dtype.kind == v.dtype.kind == "c"
    assert w.dtype.itemsize == 2 * np.dtype(dtype).itemsize or np.dtype(dtype).kind == "c"
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(w, want_w, rtol=tol, atol=tol)
    np.testing.assert_allclose(v, want_v, rtol=tol, atol=tol)
    np.testing.assert_allclose(gnp.linalg.eigvals(a), np.linalg.eigvals(a), rtol=tol, atol=tol)


def test_eig_of_symmetric_matrix_agrees_with_eigh(rng):
    m = rng.standard_normal((3, 3))
    a = m + m.T
    g_eig = ga.grad(lambda a: gnp.sum(gnp.real(gnp.linalg.eigvals(a)) ** 3))(a)
    g_eigh = ga.grad(lambda a: gnp.sum(gnp.linalg.eigvalsh((a + a.T) / 2) ** 3))(a)
    np.testing.assert_allclose(g_eig, g_eigh, rtol=1e-10, atol=1e-10)
    assert g_eig.dtype == np.float64


def test_spectral_and_nuclear_norms_at_repeated_singular_values():
    # d ||A||_* = U V^T, well defined with repeated singular values (the norms use svdvals,
    # whose rule needs no gaps between singular values)
    a = np.diag([2.0, 2.0, 1.0]) @ np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    u, _, vh = np.linalg.svd(a)
    np.testing.assert_allclose(ga.grad(lambda a: gnp.linalg.norm(a, "nuc"))(a), u @ vh,
                               atol=1e-12)
    assert np.all(np.isfinite(ga.grad(lambda a: gnp.linalg.norm(a, 2))(a)))



# ---- repeated eigenvalues and singular values ------------------------------------------------
def _lower_gradient(m):
    """The gradient, w.r.t. the lower triangle eigh reads, of a function whose gradient w.r.t.
    the symmetric matrix it stands for is the symmetric m."""
    return np.tril(2.0 * m, -1) + np.diag(np.diag(m))


def _eigh_reconstruction(a):
    w, v = gnp.linalg.eigh(a)
    return (v * w) @ v.T


def _svd_reconstruction(a):
    u, s, vh = gnp.linalg.svd(a, full_matrices=False)
    return (u * s) @ vh


def _tied_matrices(rng):
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    rotated = (q * [1.5, 1.5, 4.0]) @ q.T  # eigenvalues apart by rounding errors only
    return {"identity": np.eye(3), "diagonal": np.diag([2.0, 0.5, 2.0]),
            "rotated": (rotated + rotated.T) / 2}


def test_eigenvalue_functions_at_repeated_eigenvalues_are_exact(rng):
    t = rng.standard_normal((3, 3))
    for name, a in _tied_matrices(rng).items():
        want = 3 * a @ a  # d/dA sum(w^3) = 3 A^2
        for uplo, tri in (("L", np.tril), ("U", np.triu)):
            f = lambda a, uplo=uplo: gnp.sum(gnp.linalg.eigvalsh(a, UPLO=uplo) ** 3)
            want_g = tri(2.0 * want) - np.diag(np.diag(want))
            np.testing.assert_allclose(ga.grad(f)(a), want_g, atol=1e-9, err_msg=name)
            np.testing.assert_allclose(ga.jvp(f, (a,), (t,))[1], np.sum(want_g * t), atol=1e-9,
                                       err_msg=name)
        f = lambda a: gnp.sum(gnp.linalg.eigh(a)[0] ** 3)  # eigenvectors unused
        np.testing.assert_allclose(ga.grad(f)(a), _lower_gradient(want), atol=1e-9)
        g = ga.grad(lambda a: gnp.sum(gnp.real(gnp.linalg.eig(a)[0]) ** 3))(a)
        np.testing.assert_allclose(g, want, atol=1e-9, err_msg=name)


def test_eigenvector_functions_at_ties_give_nan_not_a_wrong_number(rng):
    # sum(g * V diag(w) V^T) = sum(g * a): its gradient at a tie is not a function of the
    # cotangents eigh receives, so the rule must not return a finite number
    g = rng.standard_normal((3, 3))

    def reconstruction(a):
        return gnp.sum(g * _eigh_reconstruction(a))

    for name, a in _tied_matrices(rng).items():
        got = ga.grad(reconstruction)(a)
        assert np.isnan(got).any(), name
        assert np.all(np.isnan(got) | np.isclose(got, _lower_gradient((g + g.T) / 2))), name
    at_zero = ga.grad(reconstruction)(np.zeros((3, 3)))  # V's cotangent is 0 there
    assert np.isnan(at_zero).any()
    t = rng.standard_normal((3, 3))
    _, tangent = ga.jvp(_eigh_reconstruction, (np.eye(3),), (t + t.T,))
    assert np.isnan(tangent).all()


def test_ties_the_tangent_or_cotangent_does_not_couple_are_exact(rng):
    # a tangent diagonal in the eigenbasis keeps the eigenvectors: the reconstruction's
    # derivative is the tangent, also at exactly tied eigenvalues
    a, t = np.diag([2.0, 2.0, 5.0]), np.diag(rng.standard_normal(3))
    _, tangent = ga.jvp(_eigh_reconstruction, (a,), (t,))
    np.testing.assert_allclose(tangent, t, atol=1e-12)
    # a loss of the one simple eigenvector: the tied pair is not coupled by its cotangent
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    spiked = (q * [1.0, 1.0, 1.0, 6.0]) @ q.T
    c = rng.standard_normal(4)
    top = lambda a: (gnp.linalg.eigh((a + a.T) / 2)[1][:, -1] @ c) ** 2
    ga.check_grads(top, ((spiked + spiked.T) / 2,), order=1)


def test_second_derivatives_at_ties_are_nan_where_not_exact():
    # sum(w^2) = |a|_F^2 over the lower triangle: Hessian 2 on the diagonal, 4 below it
    h = ga.hessian(lambda a: gnp.sum(gnp.linalg.eigvalsh(a) ** 2))(np.eye(3)).reshape(9, 9)
    want = np.diag(_lower_gradient(2.0 * np.ones((3, 3))).ravel())
    assert np.isnan(h).any()
    assert np.all(np.isnan(h) | np.isclose(h, want))


def test_singular_values_at_ties_and_zeros(rng):
    t = rng.standard_normal((3, 3))
    for name, a in _tied_matrices(rng).items():
        f = lambda a: gnp.sum(gnp.linalg.svd(a, full_matrices=False)[1] ** 2)  # |a|_F^2
        np.testing.assert_allclose(ga.grad(f)(a), 2 * a, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(ga.jvp(f, (a,), (t,))[1], 2 * np.sum(a * t), err_msg=name)
        recon = ga.grad(lambda a: gnp.sum(t * _svd_reconstruction(a)))(a)
        assert np.isnan(recon).any() and np.all(np.isnan(recon) | np.isclose(recon, t)), name
    # exactly zero singular value of a tall matrix: u_3 is not unique, so U's derivative is NaN
    tall = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    assert np.isnan(ga.grad(lambda a: gnp.sum(gnp.linalg.svd(a, full_matrices=False)[0]
                                              ** 2 * np.arange(3)))(tall)).any()
    np.testing.assert_allclose(ga.grad(lambda a: gnp.linalg.norm(a, "nuc"))(tall)[:2, :2],
                               np.eye(2))


def test_eig_of_a_defective_matrix_has_nan_derivatives_and_near_defective_are_exact():
    for delta in (1e-16, 1e-10, 0.0):
        a = np.array([[1.0, 1.0], [delta, 1.0]])
        g = ga.grad(lambda a: gnp.sum(gnp.real(gnp.linalg.eigvals(a)) ** 2))(a)
        if delta == 0.0:
            assert np.isnan(g).all()  # a Jordan block: no derivative
        else:
            np.testing.assert_allclose(g, 2 * a.T, atol=1e-10)  # d trace(a^2) = 2 a^T
    stack = np.stack([np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([[1.0, 1.0], [0.0, 2.0]])])
    jac = ga.jacrev(lambda a: gnp.real(gnp.linalg.eigvals(a)))(stack)
    assert np.isnan(jac[0, :, 0]).all() and np.isfinite(jac[1, :, 1]).all()


def test_pinv_lstsq_and_matrix_rank_cutoffs_are_numpys(rng):
    q1, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    q2, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    a = (q1 * np.r_[np.ones(9), 1.8e-15]) @ q2.T  # under max(m, n) eps, over NumPy's 1e-15
    traced = lambda f: ga.jvp(f, (a,), (a,))[0]
    np.testing.assert_allclose(traced(gnp.linalg.pinv), np.linalg.pinv(a), rtol=1e-8)
    for kw in ({"rtol": None}, {"rtol": 0.5}, {"rcond": 1e-3}):
        np.testing.assert_allclose(traced(lambda a, kw=kw: gnp.linalg.pinv(a, **kw)),
                                   np.linalg.pinv(a, **kw), rtol=1e-8, atol=1e-12)
    with pytest.raises(ValueError, match="linalg.pinv: give rcond or rtol, not both"):
        gnp.linalg.pinv(a, rcond=0.1, rtol=0.1)
    for kw in ({"rtol": 0.5}, {"hermitian": True}, {"tol": 1e-3}):
        assert gnp.linalg.matrix_rank(a, **kw) == np.linalg.matrix_rank(a, **kw)
    # lstsq's default cutoff is max(m, n) * float64's eps, also for float32 input
    single = ((q1[:3, :3] * [1.0, 1.0, 1e-7]) @ q2[:3, :3].T).astype(np.float32)
    got, want = gnp.linalg.lstsq(single, np.ones(3, np.float32)), np.linalg.lstsq(
        single, np.ones(3, np.float32))
    assert got.rank == want[2] == 3
    np.testing.assert_allclose(got.x, want[0], rtol=1e-4)


def test_hermitian_svd_and_pinv_compute_as_numpy(rng):
    # NumPy's hermitian=True path reads the lower triangle through eigh: a matrix that is not
    # Hermitian gives the results of the one its lower triangle stands for
    for a in (rng.standard_normal((3, 3)),
              rng.standard_normal((2, 3, 3)) + 1j * rng.standard_normal((2, 3, 3))):
        for compute_uv in (True, False):
            f = lambda a, uv=compute_uv: gnp.linalg.svd(a, hermitian=True, compute_uv=uv)
            got = ga.jvp(f, (a,), (a,))[0]
            want = np.linalg.svd(a, hermitian=True, compute_uv=compute_uv)
            for g, w in zip(got if compute_uv else [got], want if compute_uv else [want]):
                np.testing.assert_allclose(g, w, atol=1e-12)
        np.testing.assert_allclose(ga.jvp(lambda a: gnp.linalg.pinv(a, hermitian=True), (a,),
                                          (a,))[0], np.linalg.pinv(a, hermitian=True), atol=1e-12)
    m = rng.standard_normal((3, 3))
    ga.check_grads(lambda a: gnp.linalg.svd(a, hermitian=True, compute_uv=False), (m + m.T,),
                   order=2)
    ga.check_grads(lambda a: gnp.linalg.pinv(a, hermitian=True), (m + m.T,), order=2)
    assert np.all(np.triu(ga.grad(lambda a: gnp.sum(gnp.linalg.pinv(a, hermitian=True)))(m),
                          1) == 0)


# ---- einsum: the interleaved form and empty broadcast axes -----------------------------------
INTERLEAVED = [  # (shape, axis list) per operand, then the output's list (None: implicit)
    ([((2, 3), [0, 1]), ((3, 4), [1, 2])], [0, 2]),
    ([((2, 3), [0, 1]), ((3, 4), [1, 2])], None),
    ([((2, 3), [1, 0]), ((2, 4), [1, 2])], None),            # implicit output, sorted by number
    ([((5, 2, 3), [Ellipsis, 0, 1]), ((3, 4), [1, 2])], [Ellipsis, 0, 2]),
    ([((5, 2, 3), [Ellipsis, 0, 1]), ((3, 4), [1, 2])], None),
    ([((2, 3), [30, 0])], None),                             # numbers above 25 ('a'...)
    ([((3, 3), [4, 4])], [4]),                               # a diagonal
    ([((3,), [0]), ((3,), [0]), ((3,), [0])], []),
]


@pytest.mark.parametrize("operands, out", INTERLEAVED, ids=str)
def test_einsum_interleaved_form_matches_numpy(operands, out, rng):
    ops = [rng.standard_normal(shape) for shape, _ in operands]
    tail = [] if out is None else [out]

    def interleaved(ops):
        return [a for op, (_, axes) in zip(ops, operands) for a in (op, axes)] + tail

    f = lambda *ops: gnp.einsum(*interleaved(ops))
    np.testing.assert_allclose(f(*ops), np.einsum(*interleaved(ops)), rtol=1e-13)
    ga.check_grads(f, tuple(ops), order=2)


EMPTY_BROADCAST = [
    ("...ij,...jk", [(0, 2, 4), (1, 4, 3)]),
    ("...ij,...jk->...ik", [(1, 2, 3), (0, 3, 3)]),
    ("bij,bjk->ik", [(1, 2, 4), (0, 4, 3)]),
    ("...ij,...jk,...kl", [(0, 1, 2, 3), (2, 3, 3), (1, 1, 3, 2)]),
    ("ij,jk", [(0, 3), (3, 2)]),
]


@pytest.mark.parametrize("spec, shapes", EMPTY_BROADCAST)
def test_einsum_broadcasts_against_empty_axes(spec, shapes, rng):
    ops = [rng.standard_normal(s) for s in shapes]
    expected = np.einsum(spec, *ops)
    np.testing.assert_array_equal(gnp.einsum(spec, *ops), expected)
    grads = ga.grad(lambda *o: gnp.sum(gnp.einsum(spec, *o) ** 2),
                    argnums=tuple(range(len(ops))))(*ops)
    for g, op in zip(grads, ops):  # nothing flows through an empty result
        assert g.shape == op.shape
        np.testing.assert_array_equal(g, 0.0)
    tangent = ga.jvp(lambda *o: gnp.einsum(spec, *o), tuple(ops), tuple(ops))[1]
    assert tangent.shape == expected.shape
    batched = ga.vmap(lambda *o: gnp.einsum(spec, *o))(*[np.stack([o, o]) for o in ops])
    assert batched.shape == (2,) + expected.shape


def test_einsum_interleaved_errors():
    with pytest.raises(ValueError, match=r"einsum: axis label 52 .* \[0, 52\)"):
        gnp.einsum(np.ones(2), [52])
    with pytest.raises(TypeError, match="einsum: the axis list of operand 0"):
        gnp.einsum(np.ones(2), "i")

"""gpuad/numpy/svd.py at the edges: single rows and columns, the integer matrix_rank inside a
transform, norms of 0-d and empty axes.

General shapes, complex input and cutoffs are checked by the case tables
(tests/cases_numerical.py, tests/cases_linalg_complex.py through tests/test_primitives.py);
ties and zeros of the singular values (tests/cases_degenerate.py) and the values, errors and
hermitian forms in tests/numpy/test_linalg.py."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

la = gnp.linalg


@pytest.mark.parametrize("shape", [(1, 3), (3, 1), (2, 1, 4)])
def test_single_row_or_column(rng, shape):
    a = rng.standard_normal(shape)
    np.testing.assert_allclose(la.svdvals(a), np.linalg.svd(a, compute_uv=False), rtol=1e-13)
    ga.check_grads(la.svdvals, (a,), order=2)
    ga.check_grads(la.pinv, (a,), order=1)
    # one singular value: the spectral norm, whose gradient is a / |a|
    np.testing.assert_allclose(ga.grad(lambda a: gnp.sum(la.svdvals(a)))(a),
                               a / np.linalg.norm(a, axis=(-2, -1), keepdims=True), rtol=1e-12)


def test_matrix_rank_is_an_integer_constant_under_transforms(rng):
    a = rng.standard_normal((4, 2)) @ rng.standard_normal((2, 3))  # rank 2
    seen = []

    def f(a):
        r = la.matrix_rank(a)
        seen.append(r)
        return gnp.sum(a) * r

    np.testing.assert_allclose(ga.grad(f)(a), np.full((4, 3), 2.0))
    assert type(seen[0]) in (int, np.int64, np.intp) and seen[0] == 2
    stack = np.stack([a, np.eye(4, 3)])
    np.testing.assert_array_equal(la.matrix_rank(stack), np.linalg.matrix_rank(stack))


@pytest.mark.parametrize("x, kw", [
    (np.float64(-2.5), {}),
    (np.array([3.0, -4.0]), {"ord": 1}),
    (np.array([[1.0, -2.0], [0.5, 3.0]]), {"ord": "fro", "keepdims": True}),
    (np.array([[1.0, -2.0], [0.5, 3.0]]), {"axis": 0}),
    (np.array([[1.0, -2.0], [0.5, 3.0]]), {"axis": (1, 0), "ord": 2}),
])
def test_norm_shapes_and_gradients(x, kw):
    want = np.linalg.norm(x, **kw)
    got = la.norm(x, **kw)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    ga.check_grads(lambda x: la.norm(x, **kw), (x,), order=2)


def test_norm_names_a_bad_axis():
    with pytest.raises(ValueError, match=r"linalg.norm: axis must name 1 or 2 axes"):
        la.norm(np.ones((2, 2, 2)), axis=(0, 1, 2))

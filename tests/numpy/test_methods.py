"""Traced arrays behave like arrays."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp


def test_properties_and_methods_under_tracing(rng):
    x = rng.standard_normal((2, 3))

    def f(x):
        assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
        assert x.dtype == np.float64
        y = x.T.reshape(3, 2).transpose().ravel().sum() + x.mean(axis=0).max() + x.var()
        z = x.swapaxes(0, 1).dot(np.ones(2)).cumsum().prod() + x.clip(-0.5, 0.5).std(ddof=1)
        return y + z + x.astype(np.float64).min() + x.conj().real.sum() + x.diagonal().sum()

    ga.check_grads(f, (x,), order=1)


def test_comparisons_give_plain_arrays_and_bool_works():
    def f(x):
        mask = x > 0
        assert type(mask) is np.ndarray and mask.dtype == bool
        assert bool(x.sum() > -100)
        assert f"{x.sum():.1f}" == "6.0"
        return gnp.sum(x[mask])
    np.testing.assert_array_equal(ga.grad(f)(np.array([1.0, 2.0, 3.0])), [1.0, 1.0, 1.0])


def test_reflected_operators_with_numpy_arrays(rng):
    a, x = rng.standard_normal(3), rng.standard_normal(3)
    f = lambda x: gnp.sum(a - x + a * x + a / (x + 5) + a ** 2 @ x + 2.0 ** x)
    ga.check_grads(f, (x,), order=2)


def test_traced_arrays_are_hashable_and_iterable():
    def f(x):
        assert len({x}) == 1
        return sum(v * v for v in x)
    np.testing.assert_allclose(ga.grad(f)(np.array([1.0, 2.0])), [2.0, 4.0])


def test_item_is_a_constant():
    assert ga.grad(lambda x: x * x.item())(np.array(2.0)) == 2.0

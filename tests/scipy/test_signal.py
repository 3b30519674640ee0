"""gpuad.scipy.signal values against scipy.signal (direct method); derivatives are checked from
tests/cases_scipy.py."""
import numpy as np
import pytest

import gpuad as ga
from gpuad.scipy import signal

ss = pytest.importorskip("scipy.signal")
SHAPES = [((7,), (3,)), ((3,), (7,)), ((4,), (4,)), ((5, 6), (2, 3)), ((2, 3), (5, 6)),
          ((4, 2), (2, 3)), ((3, 4, 5), (2, 2, 3)), ((1,), (1,)), ((), ())]


@pytest.mark.parametrize("s1,s2", SHAPES)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_matches_scipy(name, mode, s1, s2):
    rng = np.random.default_rng(len(s1) + 7 * len(s2))
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    try:
        expected = getattr(ss, name)(a, b, mode=mode, method="direct")
    except ValueError:
        with pytest.raises(ValueError, match=f"signal.{name}: in mode 'valid'"):
            getattr(signal, name)(a, b, mode)
        return
    out = getattr(signal, name)(a, b, mode)
    assert np.shape(out) == np.shape(expected)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_gradient_is_a_correlation():
    # d/d in1 of sum(g * convolve(in1, in2, 'full')) = correlate(g, in2, 'valid')
    rng = np.random.default_rng(0)
    a, b, g = rng.standard_normal(6), rng.standard_normal(3), rng.standard_normal(8)
    grad = ga.grad(lambda a: (g * signal.convolve(a, b)).sum())(a)
    np.testing.assert_allclose(grad, ss.correlate(g, b, mode="valid"), rtol=1e-12)


def test_errors_name_the_op_and_the_fix():
    with pytest.raises(ValueError, match=r"signal.convolve: in1 and in2 must have the same "
                                         r"number of dimensions, got shapes \(3,\) and \(2, 2\)"):
        signal.convolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"signal.correlate: mode must be one of"):
        signal.correlate(np.ones(3), np.ones(2), mode="circular")

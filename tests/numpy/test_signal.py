"""correlate, unwrap and the window functions (gpuad/numpy/signal.py)."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp

from .numpy_reference import matches_numpy

RNG = np.random.default_rng(4)
PHASE = np.cumsum(RNG.uniform(-4.0, 4.0, 12))

CASES = [(f"correlate_{mode}_{n}_{m}", lambda mod, a, v, mode=mode: mod.correlate(a, v, mode),
          (RNG.standard_normal(n), RNG.standard_normal(m)))
         for mode in ("valid", "same", "full") for n, m in [(5, 3), (3, 5), (2, 7), (4, 4),
                                                              (1, 3)]]
CASES += [
    ("correlate_complex", lambda m, a, v: m.correlate(a, v, "same"),
     (RNG.standard_normal(4) + 1j, RNG.standard_normal(6) - 2j)),
    ("unwrap", lambda m, p: m.unwrap(p), (PHASE,)),
    ("unwrap_zero_start", lambda m, p: m.unwrap(p), (np.concatenate([[0.0, -0.0], PHASE]),)),
    ("unwrap_axis_period", lambda m, p: m.unwrap(p, axis=0, period=5.0),
     (np.cumsum(RNG.uniform(-4.0, 4.0, (6, 3)), 0),)),
    ("unwrap_discont", lambda m, p: m.unwrap(p, discont=4.0), (PHASE,)),
]
CASES += [(name, lambda m, name=name: getattr(m, name)(7), ())
          for name in ("bartlett", "blackman", "hamming", "hanning")]
CASES += [("kaiser", lambda m: m.kaiser(6, 3.0), ())]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, fn, args):
    matches_numpy(fn, args)


def test_unwrap_derivative_is_the_identity():
    g = ga.grad(lambda p: gnp.sum(gnp.unwrap(p) * np.arange(12.0)))(PHASE)
    np.testing.assert_array_equal(g, np.arange(12.0))


def test_correlate_errors():
    with pytest.raises(ValueError, match="correlate: both inputs must be 1-D"):
        gnp.correlate(np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="mode must be"):
        gnp.correlate(np.ones(3), np.ones(2), "middle")

"""Fused groups of CuPy arrays: numba.cuda kernels, equal to the per-op rules (GPU only; kept
apart from test_fusion.py so that it imports where hypothesis is not installed)."""
import numpy as np
import pytest

import gpuad.numpy as gnp
from gpuad.kernels.backward import FUSED

from .chains import both_ways, cheap, fuse_small_arrays, transcendental  # noqa: F401 (fixture)


@pytest.mark.gpu
def test_cupy_groups_run_numba_cuda_kernels():
    import cupy as cp
    rng = np.random.default_rng(7)
    x, y = cp.asarray(rng.standard_normal((300, 40))), cp.asarray(rng.standard_normal(40))
    f = lambda x, y: gnp.sum(cheap(x, y) * transcendental(x))  # noqa: E731
    from gpuad.reverse import ReverseTrace
    trace = ReverseTrace()
    f(trace.new_input(x), trace.new_input(y))
    trace.close()
    assert any(entry[0] is FUSED for entry in trace.tape)  # CuPy arrays are recorded in groups
    fused, unfused = both_ways(f, (x, y), (0, 1))
    for a, b in zip(fused, unfused):
        assert isinstance(a, cp.ndarray)
        np.testing.assert_allclose(cp.asnumpy(a), cp.asnumpy(b), rtol=1e-12, atol=1e-12)

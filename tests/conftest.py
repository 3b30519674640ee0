import os

import numpy as np
import pytest

import gpuad as ga


def _gpu_available():
    """`(usable, reason)`: whether the `gpu`-marked tests can run."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return False, "NUMBA_ENABLE_CUDASIM=1: numba.cuda is the simulator"
    return ga.backend.probe_cupy()


def pytest_collection_modifyitems(config, items):
    """Skip the `gpu`-marked tests without a device; with GPUAD_REQUIRE_GPU=1 (as
    benchmarks/gpu/run_all.sh sets it) stop instead, saying why, so a GPU run cannot pass by
    skipping everything."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    usable, reason = _gpu_available()
    if usable:
        return
    if os.environ.get("GPUAD_REQUIRE_GPU") == "1":
        raise pytest.UsageError(f"GPUAD_REQUIRE_GPU=1, but the gpu tests cannot run: {reason}")
    skip = pytest.mark.skip(reason=f"needs CuPy and a CUDA device ({reason})")
    for item in gpu_items:
        item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


_CONFIG_FIELDS = ga.config.FIELDS


@pytest.fixture(autouse=True)
def _restore_config():
    saved = [getattr(ga.config, name) for name in _CONFIG_FIELDS]
    yield
    for name, value in zip(_CONFIG_FIELDS, saved):
        setattr(ga.config, name, value)


@pytest.fixture(autouse=True)
def _no_trace_left_open():
    """A test (or the library under it) that leaves a trace open makes every later transform in
    the process see a stale trace (a collective lifts its arguments into all open traces): fail
    the test that did it, not a later one, and close them so the rest of the run is clean."""
    from gpuad import trace
    before = list(trace._open_traces)
    yield
    leaked = [t for t in trace._open_traces if t not in before]
    for t in leaked:
        t.close()
    assert not leaked, f"the test left {len(leaked)} trace(s) open: {leaked[:3]}"

import os

import numpy as np
import pytest

import gpuad as ga


def _gpu_available():
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return False
    return ga.backend.probe_cupy()[0]


def pytest_collection_modifyitems(config, items):
    if any("gpu" in item.keywords for item in items) and not _gpu_available():
        skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


_CONFIG_FIELDS = ("debug_nans", "fusion", "fusion_min_size", "fusion_forward",
                  "fusion_forward_min_size")


@pytest.fixture(autouse=True)
def _restore_config():
    saved = [getattr(ga.config, name) for name in _CONFIG_FIELDS]
    yield
    for name, value in zip(_CONFIG_FIELDS, saved):
        setattr(ga.config, name, value)

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


@pytest.fixture(autouse=True)
def _restore_config():
    saved = (ga.config.debug_nans, ga.config.fusion, ga.config.fusion_min_size)
    yield
    ga.config.debug_nans, ga.config.fusion, ga.config.fusion_min_size = saved

"""Shared by the fused-kernel tests: two elementwise chains, fusion on small arrays, and the
gradient computed fused and unfused. (No hypothesis here: tests/kernels/test_cuda.py must
import on a GPU machine that has only pytest.)"""
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.config import config


@pytest.fixture(autouse=True)
def fuse_small_arrays():
    saved = config.fusion, config.fusion_min_size
    config.fusion, config.fusion_min_size = True, 8
    yield
    config.fusion, config.fusion_min_size = saved


def both_ways(f, args, argnums):
    fused = ga.grad(f, argnums=argnums)(*args)
    config.fusion = False
    try:
        unfused = ga.grad(f, argnums=argnums)(*args)
    finally:
        config.fusion = True
    return fused, unfused


def transcendental(x):
    return gnp.tanh(gnp.sin(x) * x + gnp.exp(-x ** 2)) * gnp.cos(x)


def cheap(x, y):
    z = gnp.maximum(x * y + 0.5, 0.0)
    return gnp.where(x > 0, gnp.square(z), z * 0.1) - y

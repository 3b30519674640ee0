"""Data-parallel MLP gradients equal the full batch's (1e-12, float64) on 2 and 3 ranks, one
message per bucket, differentiable through the averaging (programs/data_parallel.py)."""
import numpy as np
import pytest

import gpuad.distributed as gd

from .launch import assert_ok, suite

CHECKS = ["gradients_match", "hvp_through_average", "aux_is_local"]


@pytest.mark.parametrize("n", [2, 3], ids=lambda n: f"{n}ranks")
@pytest.mark.parametrize("check", CHECKS)
def test_data_parallel_on_ranks(n, check):
    assert_ok(suite(n, "data_parallel"), check, n)


def _leaves(*sizes, dtype=np.float64):
    return [np.zeros(s, dtype) for s in sizes]


@pytest.mark.parametrize("leaves, bucket_bytes, expected", [
    (_leaves(10, 10, 10), 25 * 2**20, [[0, 1, 2]]),
    (_leaves(10, 10, 10), 160, [[0, 1], [2]]),
    (_leaves(10, 100, 10), 160, [[0], [1], [2]]),          # a big leaf alone
    (_leaves(10, 10) + _leaves(10, dtype=np.float32), 1000, [[0, 1], [2]]),  # by dtype
    (_leaves(10) + _leaves(10, dtype=np.float32) + _leaves(10), 1000, [[0, 2], [1]]),
    ([], 100, []),
])
def test_buckets(leaves, bucket_bytes, expected):
    assert gd.data_parallel.buckets(leaves, bucket_bytes) == expected

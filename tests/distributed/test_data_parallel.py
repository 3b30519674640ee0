"""Data-parallel MLP gradients equal the full batch's (1e-12, float64) on 2 and 3 ranks, one
message per bucket, differentiable through the averaging (programs/data_parallel.py)."""
import numpy as np
import pytest

import gpuad.distributed as gd

from .launch import run_ranks

CHECKS = ["gradients_match", "hvp_through_average", "aux_is_local"]


@pytest.fixture(scope="module", params=[2, 3], ids=lambda n: f"{n}ranks")
def outcome(request):
    proc, result = run_ranks("data_parallel.py", request.param, timeout=120)
    assert proc.returncode == 0 and result is not None, \
        f"mpiexec -n {request.param} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return request.param, result


@pytest.mark.parametrize("check", CHECKS)
def test_data_parallel_on_ranks(outcome, check):
    n, result = outcome
    assert sorted(result[check]) == [str(r) for r in range(n)]
    failures = {r: text for r, text in result[check].items() if text != "ok"}
    assert not failures, "\n".join(f"rank {r}: {t}" for r, t in failures.items())


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

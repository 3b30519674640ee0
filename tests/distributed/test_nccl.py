"""CuPy arrays over NCCL give the host path's values and gradients (programs/nccl.py): on one
rank with one GPU, and on two where the machine has two."""
import pytest

from .launch import run_ranks

pytestmark = pytest.mark.gpu


def _devices():
    import cupy
    return cupy.cuda.runtime.getDeviceCount()


@pytest.mark.parametrize("n", [1, 2])
def test_nccl_matches_host_staging(n):
    from gpuad import backend_nccl
    usable, reason = backend_nccl.available()
    if not usable:
        pytest.skip(f"NCCL cannot run here: {reason}")
    if _devices() < n:
        pytest.skip(f"{n} ranks need {n} GPUs (NCCL refuses two ranks on one device)")
    proc, result = run_ranks("nccl.py", n, timeout=300)
    assert proc.returncode == 0 and result is not None, f"{proc.stdout}\n{proc.stderr}"
    failures = {(case, r): t for case, per in result.items() for r, t in per.items() if t != "ok"}
    assert not failures, failures

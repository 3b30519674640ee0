"""`python -m gpuad --ranks N` (gpuad/experiment/distributed.py): it starts mpiexec itself and
reports the sequence-parallel run against one rank; its option errors come before any work."""
import json
import os
import subprocess
import sys

import pytest

from gpuad.experiment import distributed, preflight
from gpuad.experiment.options import OptionError, parse

from ..distributed.launch import ROOT, environment, require_mpi


def test_two_ranks_quick_run(tmp_path):
    require_mpi()
    env = dict(environment(), GPUAD_BACKEND="numpy")
    proc = subprocess.run([sys.executable, "-m", "gpuad", "--ranks", "2", "--quick",
                           "--schedules", "storeall,revolve", "--lengths", "40",
                           "--microbatches", "2", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "mpiexec -n 2" in proc.stdout and "on 2 ranks" in proc.stdout
    results = json.loads((tmp_path / "distributed.json").read_text())
    rows = results["steps"]
    assert (results["ranks"], results["microbatches"]) == (2, 2)
    assert [r["schedule"].split("(")[0] for r in rows][:2] == ["StoreAll", "Revolve"]
    for r in rows:
        # float32: the ranks' shares are summed in another order than one rank's steps
        assert r["grad_max_diff"] < 1e-5, r
        assert r["seconds"] > 0 and r["one_rank"]["seconds"] > 0
        assert len(r["peaks"]) == 2 and min(r["peaks"]) > 0
    # each rank keeps half the steps' tapes; on this tiny model (hidden 16, microbatches of 4
    # sequences) fixed per-step costs keep the ratio near 0.83 rather than 0.5
    store_all = rows[0]
    assert store_all["peak_bytes_per_rank"] < 0.95 * store_all["one_rank"]["peak_bytes"]
    assert "peak per rank" in proc.stdout and "largest gradient difference" in proc.stdout


def _check(argv):
    return preflight.check_ranks(parse(["--quick", *argv]))


@pytest.mark.parametrize("argv, message", [
    (["--microbatches", "2"], "--microbatches 2: pipelines the batch over MPI ranks"),
    (["--ranks", "2", "--batch", "8", "--microbatches", "3"], "must divide --batch 8"),
    (["--ranks", "30", "--lengths", "20,40"], "--lengths 20 has fewer steps than ranks"),
    (["--ranks", "0"], "--ranks: got '0'; give a positive integer"),
])
def test_bad_ranks_options(argv, message):
    with pytest.raises(OptionError, match=message):
        _check(argv)


def test_missing_mpiexec_is_one_line(monkeypatch):
    if os.environ.get("PMI_RANK") is not None:
        pytest.skip("runs outside a launcher")
    monkeypatch.setattr(distributed, "mpiexec", lambda: None)
    with pytest.raises(OptionError, match=r"--ranks 2: needs mpiexec.*pip install "
                                          r"'gpuad\[distributed\]'"):
        _check(["--ranks", "2"])


def test_one_rank_needs_no_mpi(monkeypatch):
    monkeypatch.setattr(distributed, "mpiexec", lambda: None)
    assert _check([]) is None

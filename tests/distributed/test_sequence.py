"""Sequence-parallel scan (gpuad/distributed/sequence.py) on 2 and 3 ranks against the
single-process StoreAll scan (programs/sequence.py), and its argument errors."""
import numpy as np
import pytest

import gpuad.distributed as gd
from gpuad.checkpoint import StoreAll
from gpuad.distributed import sequence

from .launch import run_ranks

CHECKS = ["lstm_closed_grad", "rnn_xs_grad", "lstm_closed_jvp_hvp", "rnn_xs_jvp_hvp"]
# 3 ranks (uneven chunks 4/4/3) run a part, to keep the suite's MPI time near 40 s
RUNS = {2: CHECKS, 3: ["lstm_closed_grad", "rnn_xs_jvp_hvp"]}
_outcomes = {}


def outcome(n):
    if n not in _outcomes:
        proc, result = run_ranks("sequence.py", n, timeout=180, args=RUNS[n])
        assert proc.returncode == 0 and result is not None, \
            f"mpiexec -n {n} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        _outcomes[n] = result
    return _outcomes[n]


@pytest.mark.parametrize("n, check", [(n, c) for n, cs in RUNS.items() for c in cs])
def test_sequence_parallel_on_ranks(n, check):
    result = outcome(n)
    assert sorted(result[check]) == [str(r) for r in range(n)]
    failures = {r: text for r, text in result[check].items() if text != "ok"}
    assert not failures, "\n".join(f"rank {r}: {t}" for r, t in failures.items())


def _step(c, x):
    h = np.tanh(c + x)
    return h, h


def test_microbatches_must_divide_the_batch():
    comm = gd.Communicator(None)
    with pytest.raises(ValueError, match="batch size 3 .* not divisible by microbatches=2"):
        sequence.scan(_step, np.zeros((3, 2)), np.zeros((4, 3, 2)), microbatches=2, comm=comm)


def test_microbatched_ys_need_a_batch_axis():
    comm = gd.Communicator(None)
    with pytest.raises(ValueError, match="batch on its axis 0"):
        sequence.scan(lambda c, x: (c + x, float(0) + (c + x).sum()), np.zeros((4, 2)),
                      np.zeros((3, 4, 2)), microbatches=2, comm=comm, schedule=StoreAll())

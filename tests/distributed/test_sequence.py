"""Sequence-parallel scan on 2 and 3 ranks against the single-process StoreAll scan
(programs/sequence.py, through `gpuad.checkpoint.scan(..., comm=)`), and in this process: the
delegation from `gpuad.checkpoint.scan` to `gd.sequence.scan`, and the argument errors."""
import subprocess
import sys

import numpy as np
import pytest

import gpuad as ga
import gpuad.distributed as gd
import gpuad.numpy as gnp
from gpuad.checkpoint import Revolve, StoreAll, scan
from gpuad.distributed import sequence

from .launch import ROOT, SUITE, assert_ok, environment, suite
from .programs import sequence as program

RUNS = {n: [c for c, _ in program.checks(None, next(
    (s.partition("=")[2].split(",") for s in SUITE[n] if s.startswith("sequence=")), ()))]
    for n in SUITE}


@pytest.mark.parametrize("n, check", [(n, c) for n, cs in RUNS.items() for c in cs])
def test_sequence_parallel_on_ranks(n, check):
    assert_ok(suite(n, "sequence"), check, n)


def _step(c, x):
    h = np.tanh(c + x)
    return h, h


def _tanh_step(c, x):
    h = gnp.tanh(c + x)
    return h, gnp.sum(h * h, axis=1)


@pytest.mark.parametrize("m, schedule", [(1, None), (2, Revolve(2)), (4, StoreAll())])
def test_checkpoint_scan_with_comm_is_the_sequence_scan(m, schedule):
    """Same values and gradients as gd.sequence.scan, and as the plain scan (one rank), and the
    collectives of the sequence scan do run (a spy on the broadcast of the final carry)."""
    comm = gd.Communicator(None)
    rng = np.random.default_rng(0)
    xs, h0 = rng.normal(size=(6, 4, 3)), rng.normal(size=(4, 3))
    calls = []
    bcast = comm.engine.bcast
    comm.engine.bcast = lambda x, root: calls.append(root) or bcast(x, root)

    def loss(how):
        def f(h):
            carry, ys = how(h)
            return gnp.sum(ys) + gnp.sum(carry ** 2)
        return ga.value_and_grad(f)(h0)

    via_api = loss(lambda h: scan(_tanh_step, h, xs, schedule=schedule, comm=comm,
                                  microbatches=m))
    assert calls, "checkpoint.scan(comm=) did not run the sequence-parallel scan"
    direct = loss(lambda h: sequence.scan(_tanh_step, h, xs, schedule=schedule, comm=comm,
                                          microbatches=m))
    plain = loss(lambda h: scan(_tanh_step, h, xs))
    for got in (via_api, direct):
        assert abs(got[0] - plain[0]) <= 1e-12 * abs(plain[0])
        assert np.max(np.abs(got[1] - plain[1])) <= 1e-12 * np.max(np.abs(plain[1]))


def test_plain_scan_imports_nothing_distributed_and_comm_needs_it():
    """In a fresh process: a plain scan imports neither gpuad.distributed nor mpi4py, and a
    comm given before gpuad.distributed is imported gets an error saying what to import."""
    code = ("import sys, numpy as np; from gpuad.checkpoint import scan\n"
            "scan(lambda c, x: (c + x, None), np.zeros(2), np.ones((3, 2)))\n"
            "print(sorted(m for m in sys.modules if 'distributed' in m or 'mpi4py' in m))\n"
            "try:\n    scan(lambda c, x: (c + x, None), np.zeros(2), np.ones((3, 2)), comm=1)\n"
            "except TypeError as e:\n    print(e)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=environment(), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    modules, message = proc.stdout.splitlines()
    assert modules == "[]", modules
    assert "needs gpuad.distributed, which is not imported" in message, message
    assert "import gpuad.distributed as gd" in message


def test_scan_argument_errors():
    xs = np.zeros((4, 3, 2))
    with pytest.raises(ValueError, match="microbatches=2.* without comm.*comm=gd.world"):
        scan(_step, np.zeros((3, 2)), xs, microbatches=2)
    with pytest.raises(ValueError, match="with comm, the time axis is xs's leading axis"):
        scan(_step, np.zeros((3, 2)), None, length=4, comm=gd.Communicator(None))
    with pytest.raises(TypeError, match="schedule"):
        scan(_step, np.zeros((3, 2)), xs, schedule="revolve", comm=gd.Communicator(None))


def test_microbatches_must_divide_the_batch():
    comm = gd.Communicator(None)
    with pytest.raises(ValueError, match="batch size 3 .* not divisible by microbatches=2"):
        sequence.scan(_step, np.zeros((3, 2)), np.zeros((4, 3, 2)), microbatches=2, comm=comm)


def test_microbatched_ys_need_a_batch_axis():
    comm = gd.Communicator(None)
    with pytest.raises(ValueError, match="batch on its axis 0"):
        sequence.scan(lambda c, x: (c + x, float(0) + (c + x).sum()), np.zeros((4, 2)),
                      np.zeros((3, 4, 2)), microbatches=2, comm=comm, schedule=StoreAll())

"""Worlds: the stand-in equals a size-1 MPI world; a failing rank ends every rank."""
import time

import numpy as np

import gpuad.distributed as gd

from .launch import run_ranks, run_single


def test_stand_in_equals_size_one_world():
    proc, single = run_single("stand_in.py")
    assert proc.returncode == 0, proc.stderr
    assert "KIND stand-in 0 1" in proc.stdout
    proc, world = run_ranks("stand_in.py", 1)
    assert proc.returncode == 0, proc.stderr
    assert "KIND mpi 0 1" in proc.stdout
    assert single is not None and single == world


def test_failing_rank_aborts_every_rank():
    start = time.perf_counter()
    proc, _ = run_ranks("failing_rank.py", 2, timeout=60)
    elapsed = time.perf_counter() - start
    assert proc.returncode != 0
    assert "finished" not in proc.stdout  # rank 0 did not get past its collective
    assert "rank 1 of 2 failed with RuntimeError: boom on purpose at step 2" in proc.stderr
    assert elapsed < 60


def test_world_without_launcher_is_the_stand_in():
    if gd.launched_under_mpi():
        return
    comm = gd.world()
    assert (comm.rank, comm.size, comm.mpi) == (0, 1, None)
    assert gd.world() is comm
    assert np.array_equal(gd.allreduce(np.arange(3.0)), np.arange(3.0))

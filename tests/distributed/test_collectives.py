"""Every collective's VJP and JVP against finite differences and against a single-process
reference, on 2 and 3 ranks (programs/collectives.py does the checking on every rank), and the
in-process stand-in's rules and errors."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.distributed as gd
import gpuad.numpy as gnp

from .launch import assert_ok, suite
from .programs import collectives as program

CASES = sorted(program.cases(2))


@pytest.mark.parametrize("n", [2, 3], ids=lambda n: f"{n}ranks")
@pytest.mark.parametrize("case", CASES + ["mismatch"])
def test_collective_on_ranks(n, case):
    assert_ok(suite(n, "collectives"), case, n)


def test_cases_cover_every_collective():
    names = " ".join(CASES)
    for op in ("allreduce_sum", "allreduce_mean", "allreduce_max", "allgather", "reduce_scatter",
               "broadcast", "reduce", "shift", "shard", "unused"):
        assert op in names, op


# --- the stand-in (size 1), in this process ------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_stand_in_matches_reference(name):
    comm = gd.Communicator(None)
    fn, ref = program.cases(1)[name]
    rng = np.random.default_rng(3)
    X, V = rng.normal(size=program.SHAPE), rng.normal(size=program.SHAPE)
    U = rng.normal(size=np.shape(ref(X)))
    program.check_case(program.replicated(fn, comm), ref, X, U, V)


def test_stand_in_shift_receives_zeros():
    x = np.arange(3.0)
    assert np.array_equal(gd.shift(x, 1, comm=gd.Communicator(None)), np.zeros(3))
    assert np.array_equal(gd.shift(x, 0, comm=gd.Communicator(None)), x)


@pytest.mark.parametrize("n, size", [(7, 2), (7, 3), (2, 3), (0, 2), (9, 3)])
def test_shards_are_array_split(n, size):
    x = np.arange(n * 2.0).reshape(n, 2)
    pieces = np.array_split(x, size)
    assert gd.split_sizes(n, size) == tuple(len(p) for p in pieces)
    for r, p in enumerate(pieces):
        start, stop = gd.collectives.shard_bounds(n, size, r)
        assert np.array_equal(x[start:stop], p)


def test_argument_errors_name_the_op_and_fix():
    comm = gd.Communicator(None)
    with pytest.raises(ValueError, match="gd.allreduce: op='min'"):
        gd.allreduce(np.ones(2), "min", comm=comm)
    with pytest.raises(TypeError, match="complex numbers have no order"):
        gd.allreduce(np.ones(2, complex), "max", comm=comm)
    with pytest.raises(ValueError, match="gd.broadcast: root=1 is not a rank"):
        gd.broadcast(np.ones(2), root=1, comm=comm)
    with pytest.raises(ValueError, match=r"gd.allgather: axis 0 is out of range.*x\[None\]"):
        gd.allgather(np.float64(1.0), comm=comm)
    with pytest.raises(TypeError, match="comm must be a gd.Communicator"):
        gd.allreduce(np.ones(2), comm="world")


def test_unused_result_still_runs_its_rule():
    """A collective whose result gets no cotangent runs its VJP anyway (collective=True): with
    a spy engine, the backward's allreduce shows up."""
    comm = gd.Communicator(None)
    calls = []
    original = comm.engine.allreduce
    comm.engine.allreduce = lambda x, op: calls.append(op) or original(x, op)
    ga.grad(lambda x: (gd.allreduce(x, comm=comm), gnp.sum(x))[1])(np.ones(3))
    assert calls == ["sum", "sum"], calls  # forward, then the rule with a zero cotangent

"""Every collective's derivatives on N ranks (run by tests/distributed/test_collectives.py).

Each case is a function of one array X, the same on every rank: its value is made replicated
on entry (`allreduce(X, "mean")`, whose VJP averages the ranks' cotangents) and on exit (an
allgather or allreduce), so the whole is one function of X that every rank computes alike, and
`check_grads` on each rank compares its derivatives with finite differences of that function.
Each case also has a reference written without communication (the ranks' values stacked), which
its value, gradient, JVP and HVP must match to 1e-12.
"""
import sys

import numpy as np

import gpuad as ga
import gpuad.distributed as gd
import gpuad.numpy as gnp

SHAPE = (7, 5)  # 7 rows: uneven pieces on 2 and 3 ranks


def local(X, r):
    """Rank r's own value: distinct per rank, no ties between ranks (the max is smooth)."""
    return gnp.tanh(X * (r + 1)) + 0.1 * r


def shard_of(x, axis, n, r):
    start, stop = gd.collectives.shard_bounds(x.shape[axis], n, r)
    return x[(slice(None),) * axis + (slice(start, stop),)]


def shifted(hs, k, n):
    return gnp.stack([hs[r - k] if 0 <= r - k < n else gnp.zeros_like(hs[0]) for r in range(n)])


def cases(n):
    """name -> (distributed function of (X, comm), reference function of X)."""
    def hs(X):
        return [local(X, r) for r in range(n)]

    def total(X):
        return sum(hs(X)[1:], hs(X)[0])

    root = n - 1
    table = {
        "allreduce_sum": (lambda X, c: gd.allreduce(local(X, c.rank), comm=c), total),
        "allreduce_mean": (lambda X, c: gd.allreduce(local(X, c.rank), "mean", comm=c),
                           lambda X: total(X) / n),
        "allreduce_max": (lambda X, c: gd.allreduce(local(X, c.rank), "max", comm=c),
                          lambda X: gnp.max(gnp.stack(hs(X)), axis=0)),
        "allgather_shard_axis0": (
            lambda X, c: gd.allgather(gd.shard(local(X, c.rank), comm=c), comm=c),
            lambda X: gnp.concatenate([shard_of(h, 0, n, r) for r, h in enumerate(hs(X))])),
        "allgather_shard_axis1": (
            lambda X, c: gd.allgather(gd.shard(local(X, c.rank), axis=1, comm=c), axis=1,
                                      comm=c),
            lambda X: gnp.concatenate([shard_of(h, 1, n, r) for r, h in enumerate(hs(X))],
                                      axis=1)),
        "reduce_scatter": (
            lambda X, c: gd.allgather(gd.reduce_scatter(local(X, c.rank), comm=c) ** 2, comm=c),
            lambda X: total(X) ** 2),
        "reduce_scatter_axis1": (
            lambda X, c: gd.allgather(gd.reduce_scatter(local(X, c.rank), axis=1, comm=c) ** 3,
                                      axis=1, comm=c),
            lambda X: total(X) ** 3),
        "broadcast": (
            lambda X, c: gd.allreduce(gd.broadcast(local(X, c.rank), root=root, comm=c)
                                      * (c.rank + 1), comm=c),
            lambda X: hs(X)[root] * sum(range(1, n + 1))),
        "reduce": (
            lambda X, c: gd.allreduce(gd.reduce(local(X, c.rank), comm=c) ** 2
                                      + local(X, c.rank), comm=c),
            lambda X: total(X) ** 2 + total(X)),
        # rank r > 0's loss does not use y: its backward must still join y's allreduce
        "unused_on_some_ranks": (
            lambda X, c: gd.allreduce(_use_on_rank0(local(X, c.rank), c), comm=c),
            lambda X: gnp.sum(total(X) ** 2) + sum(gnp.sum(gnp.sin(h)) for h in hs(X)[1:])),
    }
    for k in (1, -1, 2):
        table[f"shift_{k}"] = (
            lambda X, c, k=k: gd.allgather(gd.shift(local(X, c.rank), k, comm=c)[None], comm=c),
            lambda X, k=k: shifted(hs(X), k, n))
    return table


def _use_on_rank0(h, c):
    y = gd.allreduce(h, comm=c)
    return gnp.sum(y ** 2) if c.rank == 0 else gnp.sum(gnp.sin(h))


def replicated(fn, c):
    return lambda X: fn(gd.allreduce(X, "mean", comm=c), c)


def check_case(fn, ref, X, U, V):
    def close(a, b, what):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, f"{what}: shape {a.shape} vs reference {b.shape}"
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12), \
            f"{what}: max difference {np.max(np.abs(a - b)):.3e}"

    def scalar(f):
        return lambda X: gnp.sum(f(X) * U)

    close(fn(X), ref(X), "value")
    close(ga.grad(scalar(fn))(X), ga.grad(scalar(ref))(X), "grad")
    close(ga.jvp(fn, (X,), (V,))[1], ga.jvp(ref, (X,), (V,))[1], "jvp")
    close(ga.hvp(scalar(fn), (X,), (V,)), ga.hvp(scalar(ref), (X,), (V,)), "hvp")
    ga.check_grads(fn, (X,), order=2, modes=("fwd", "rev"))


def mismatch_checks(c):
    def expect(kind, words, call):
        try:
            call()
        except kind as exc:
            for w in words:
                assert w in str(exc), f"{w!r} not in the message: {exc}"
            return
        raise AssertionError(f"no {kind.__name__} raised")

    r = c.rank
    expect(ValueError, ["gd.allreduce", "rank 0", "rank 1", "(3,)", "(4,)", "shapes differ"],
           lambda: gd.allreduce(np.ones(3 if r == 0 else 4), comm=c))
    expect(TypeError, ["gd.allreduce", "float64", "float32", "rank 1", "dtypes differ"],
           lambda: gd.allreduce(np.ones(3, np.float64 if r == 0 else np.float32), comm=c))
    expect(ValueError, ["gd.allgather", "(2, 3)", "(2, 4)", "only axis 0 may differ"],
           lambda: gd.allgather(np.ones((2, 3 if r == 0 else 4)), comm=c))
    expect(ValueError, ["gd.shift", "parameters differ"],
           lambda: gd.shift(np.ones(2), 1 if r == 0 else 2, comm=c))
    loss = ga.grad(lambda w, x: gnp.sum(w * x))  # sanity: a plain collective still works after
    assert np.allclose(gd.allreduce(loss(np.ones(2), np.ones(2)), comm=c), c.size)
    dp = gd.data_parallel_grad(lambda w: gnp.sum(w ** 2), comm=c)
    expect(ValueError, ["data_parallel", "rank 0", "rank 1", "(2,)", "(3,)"],
           lambda: dp(np.ones(2 if r == 0 else 3)))


def checks(comm):
    """(name, check(comm)) of every case on this world, plus the mismatch errors on 2+ ranks."""
    n = comm.size
    rng = np.random.default_rng(0)  # the same X, U, V on every rank
    X, V = rng.normal(size=SHAPE), rng.normal(size=SHAPE)
    out = []
    for name, (fn, ref) in cases(n).items():
        out_shape = np.shape(ref(X))
        U = np.random.default_rng(1).normal(size=out_shape)
        out.append((name, lambda c, fn=fn, ref=ref, U=U:
                    check_case(replicated(fn, c), ref, X, U, V)))
    if n > 1:
        out.append(("mismatch", mismatch_checks))
    return out


def main():
    from report import run_checks  # (beside this file: the programs run as scripts)
    comm = gd.world()
    run_checks(checks(comm), comm)


if __name__ == "__main__":
    sys.exit(main())

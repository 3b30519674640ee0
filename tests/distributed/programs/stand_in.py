"""The same collectives and gradients on whatever world this is: run under plain python (the
stand-in) and under `mpiexec -n 1` (a size-1 MPI world), the RESULT lines must be equal."""
import sys

import numpy as np

import gpuad as ga
import gpuad.distributed as gd
import gpuad.numpy as gnp


def main():
    comm = gd.world()
    X = np.random.default_rng(0).normal(size=(5, 3))

    def f(X):
        h = gnp.tanh(X)
        return (gd.allreduce(h) + gd.allreduce(h, "mean") * 2 + gd.allreduce(h, "max") ** 2
                + gd.allgather(gd.shard(h)) * 3 + gd.reduce_scatter(h, axis=1) ** 3
                + gd.broadcast(h) + gd.reduce(h) * 5 + gd.shift(h, 0) * 7 + gd.shift(h, 1))

    value = f(X)
    grad = ga.grad(lambda X: gnp.sum(f(X) ** 2))(X)
    _, tangent = ga.jvp(f, (X,), (np.ones_like(X),))
    dp = gd.data_parallel_grad(lambda w, x: gnp.mean((x @ w) ** 2))(np.ones((3, 2)), X)
    kind = "stand-in" if comm.mpi is None else "mpi"
    print("KIND", kind, comm.rank, comm.size, flush=True)
    print("RESULT " + __import__("json").dumps(
        {"value": value.tolist(), "grad": grad.tolist(), "jvp": tangent.tolist(),
         "data_parallel": dp.tolist()}), flush=True)


if __name__ == "__main__":
    sys.exit(main())

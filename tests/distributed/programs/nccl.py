"""The collectives on CuPy arrays over NCCL equal the same over MPI through the host, values
and gradients (tests/distributed/test_nccl.py, on a machine with GPUs). Each rank uses device
rank % device count."""
import sys

import numpy as np

import gpuad as ga
import gpuad.distributed as gd
import gpuad.numpy as gnp


def main():
    import cupy
    from collectives import SHAPE, cases, replicated
    from report import run_checks  # (beside this file: the programs run as scripts)
    comm = gd.world()
    cupy.cuda.Device(comm.rank % cupy.cuda.runtime.getDeviceCount()).use()
    X = np.random.default_rng(0).normal(size=SHAPE)

    def check(fn):
        def run(c):
            results = []
            for nccl in (True, False):
                c.nccl = nccl
                f = replicated(fn, c)
                Xd = cupy.asarray(X)
                out = f(Xd)
                u = cupy.asarray(np.random.default_rng(1).normal(size=out.shape))
                g = ga.grad(lambda X: gnp.sum(f(X) * u))(Xd)
                results.append((cupy.asnumpy(out), cupy.asnumpy(g)))
            c.nccl = True
            assert c.device_engine, "NCCL engine was not made"
            for a, b in zip(*results):
                assert np.allclose(a, b, rtol=1e-12, atol=1e-12), np.max(np.abs(a - b))
        return run

    run_checks([(name, check(fn)) for name, (fn, _) in cases(comm.size).items()], comm)


if __name__ == "__main__":
    sys.exit(main())

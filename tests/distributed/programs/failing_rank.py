"""Rank 1 raises while the other ranks wait in a collective (tests/distributed/test_world.py):
every rank must end, non-zero, with rank 1 and its exception named."""
import sys

import numpy as np

import gpuad as ga
import gpuad.distributed as gd
import gpuad.numpy as gnp


def main():
    comm = gd.world()
    for step in range(3):
        if comm.rank == 1 and step == 2:
            raise RuntimeError(f"boom on purpose at step {step}")
        ga.grad(lambda x: gnp.sum(gd.allreduce(x) ** 2))(np.ones(3))
    gd.allreduce(np.ones(1))  # the other ranks block here until the abort
    print(f"rank {comm.rank} finished", flush=True)


if __name__ == "__main__":
    sys.exit(main())

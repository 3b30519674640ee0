"""Several programs' checks in one `mpiexec` launch (tests/distributed/launch.py's `suite`):
starting N Python processes that import gpuad and mpi4py costs seconds under load, so the
collectives, data-parallel and sequence-parallel checks share one start per rank count.

    mpiexec -n 3 python suite.py collectives data_parallel sequence=lstm_closed_grad,rnn_xs_grad

Each argument is a program beside this file, optionally with `=` and the names of its checks to
keep. Rank 0 prints one RESULT line whose keys are `program/check`.
"""
import importlib
import sys

import gpuad.distributed as gd


def main(argv):
    from report import run_checks  # (beside this file: the programs run as scripts)
    comm = gd.world()
    every = []
    for spec in argv:
        name, _, wanted = spec.partition("=")
        program = importlib.import_module(name)
        names = [w for w in wanted.split(",") if w]
        found = (program.checks(comm, names) if name == "sequence" else
                 [c for c in program.checks(comm) if not names or c[0] in names])
        every += [(f"{name}/{check}", fn) for check, fn in found]
    run_checks(every, comm)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

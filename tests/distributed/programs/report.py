"""Run named checks on every rank and report each one's outcome per rank on rank 0.

A check that raises is recorded (its traceback) and the next one runs, so one failure does not
hide the others; the ranks must still call the same collectives, which the checks do.
"""
import json
import traceback

import gpuad.distributed as gd


def run_checks(checks, comm=None):
    comm = comm or gd.world()
    outcome = {}
    for name, check in checks:
        try:
            check(comm)
            outcome[name] = "ok"
        except Exception:
            outcome[name] = traceback.format_exc()
    everyone = comm.engine.allgather_obj(outcome)
    if comm.rank == 0:
        merged = {name: {str(r): everyone[r][name] for r in range(comm.size)}
                  for name, _ in checks}
        print("RESULT " + json.dumps(merged), flush=True)

"""Running a rank program under `mpiexec -n N` from a test, with a timeout.

The programs live in `programs/` (not collected by pytest: they run once per rank). They print
one JSON line starting with `RESULT ` on rank 0, which `run_ranks` parses. The checks of the
collectives, data-parallel and sequence-parallel programs run in one launch per rank count
(`suite`, programs/suite.py): each launch costs seconds of process start-up under load.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")
MPIEXEC = shutil.which("mpiexec")


def require_mpi():
    """Skip, saying why, where mpiexec or mpi4py is missing; with GPUAD_REQUIRE_MPI=1 (as .ci/run
    sets it: the test extra installs both) fail instead, so CI cannot pass by skipping."""
    reason = None
    if MPIEXEC is None:
        reason = "needs mpiexec on PATH (pip install -e '.[distributed]' installs MPICH)"
    elif importlib.util.find_spec("mpi4py") is None:
        reason = "needs mpi4py (pip install -e '.[distributed]')"
    if reason is None:
        return
    if os.environ.get("GPUAD_REQUIRE_MPI") == "1":
        pytest.fail(f"GPUAD_REQUIRE_MPI=1, but the distributed tests cannot run: {reason}")
    pytest.skip(reason)


def environment():
    """This checkout's gpuad first on the path; one BLAS thread per rank (the ranks share the
    cores, and threads fighting over them make the timeouts flaky)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


def run(command, timeout):
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=environment(), cwd=ROOT)


def run_ranks(program, n, timeout=90, args=()):
    """Run `programs/<program>` on `n` ranks; returns (completed process, parsed RESULT or
    None)."""
    require_mpi()
    command = [MPIEXEC, "-n", str(n), sys.executable, os.path.join(PROGRAMS, program), *args]
    proc = run(command, timeout)
    return proc, parse(proc.stdout)


def run_single(program, timeout=60, args=()):
    """Run `programs/<program>` as a plain process (the stand-in world)."""
    proc = run([sys.executable, os.path.join(PROGRAMS, program), *args], timeout)
    return proc, parse(proc.stdout)


def parse(stdout):
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return None


# What each rank count's one launch runs. 3 ranks (uneven chunks 4/4/3 of T = 11) run a part of
# the sequence-parallel checks, to keep the suite's MPI time near 40 s.
SUITE = {2: ["collectives", "data_parallel", "sequence"],
         3: ["collectives", "data_parallel", "sequence=lstm_closed_grad,rnn_xs_jvp_hvp"]}
_suites = {}


def suite(n, program):
    """{check: {rank: "ok" or a traceback}} of `program`'s checks in the launch of `n` ranks,
    which runs once per test session (the first test that asks starts it)."""
    if n not in _suites:
        proc, result = run_ranks("suite.py", n, timeout=300, args=SUITE[n])
        assert proc.returncode == 0 and result is not None, \
            f"mpiexec -n {n} suite.py failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        _suites[n] = result
    prefix = program + "/"
    return {k[len(prefix):]: v for k, v in _suites[n].items() if k.startswith(prefix)}


def assert_ok(result, check, n):
    """Every one of the `n` ranks reported `check` as passed."""
    assert check in result, f"{check} did not run on {n} ranks (ran: {sorted(result)})"
    assert sorted(result[check]) == [str(r) for r in range(n)]
    failures = {r: text for r, text in result[check].items() if text != "ok"}
    assert not failures, "\n".join(f"rank {r}: {t}" for r, t in failures.items())

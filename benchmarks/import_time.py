"""Time of `import gpuad` (and of `import numpy`, its floor), by `python -X importtime`.

Each run is a fresh interpreter ("cold-ish": the OS file cache is warm after the first), the
imports interleaved so a shared machine's load hits all alike; the table gives the median, min
and max of the cumulative microseconds `-X importtime` reports for the top-level module, then
the gpuad modules with the largest self time in the median run of `import gpuad`.

Two bytecode settings: "cached", as after `pip install` (the .pyc files exist; written here to
a private PYTHONPYCACHEPREFIX by a first, untimed import), and "compiled", every module compiled
from source at each import, which is what this project's machines do (they set
PYTHONDONTWRITEBYTECODE=1): there compiling is most of gpuad's import time.

    python benchmarks/import_time.py [--runs 5] [--top 8] [--root SOURCE_TREE]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def import_profile(module, pycache=None, root=ROOT):
    """`{name: (self_us, cumulative_us)}` of one fresh `python -X importtime -c "import module"`,
    with bytecode cached under `pycache` (a folder) or compiled from source (None)."""
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # cwd=root: `python -c` puts the working directory first on sys.path, so another checkout
    # there would be imported instead
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         env=env, cwd=root, capture_output=True, text=True, check=True).stderr
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the whole process (interpreter start-up included): less swayed than wall
    # time by the other jobs of a shared machine
    out = {"<cpu>": (0, int(1e6 * (after.ru_utime + after.ru_stime - before.ru_utime
                                    - before.ru_stime)))}
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        self_us, cum_us, name = line[len("import time:"):].split("|")
        out[name.strip()] = (int(self_us), int(cum_us))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the source tree whose gpuad is imported (default: this one)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from timing import environment
    print(environment())
    pycache = tempfile.mkdtemp(prefix="gpuad-pycache-")
    for module in ("numpy", "gpuad"):
        import_profile(module, pycache, args.root)  # writes the .pyc files
    variants = [(m, mode) for mode in ("cached", "compiled") for m in ("numpy", "gpuad")]
    profiles = {v: [] for v in variants}
    for _ in range(args.runs):
        for module, mode in variants:
            profiles[module, mode].append(
                import_profile(module, pycache if mode == "cached" else None, args.root))
    print(f"\n{'import':>8} | {'bytecode':>8} | {'median (s)':>10} | {'min (s)':>8} | "
          f"{'max (s)':>8} | {'process CPU (s), median':>23} | runs")
    for (module, mode), runs in profiles.items():
        totals = sorted(p[module][1] / 1e6 for p in runs)
        cpu = statistics.median(p["<cpu>"][1] / 1e6 for p in runs)
        print(f"{module:>8} | {mode:>8} | {statistics.median(totals):10.3f} | "
              f"{totals[0]:8.3f} | {totals[-1]:8.3f} | {cpu:23.3f} | {len(totals)}")
    runs = sorted(profiles["gpuad", "cached"], key=lambda p: p["gpuad"][1])
    median_run = runs[len(runs) // 2]
    own = sorted(((v[0], k) for k, v in median_run.items() if k.startswith("gpuad")),
                 reverse=True)[:args.top]
    print(f"\nlargest self times in the median `import gpuad` run, bytecode cached "
          f"({median_run['gpuad'][1] / 1e6:.3f} s):")
    for self_us, name in own:
        print(f"  {name:40s} {self_us / 1e3:7.1f} ms")
    lazy = [m for m in ("gpuad.checkpoint", "gpuad.nn", "gpuad.optim", "gpuad.tasks",
                        "gpuad.memory", "gpuad.tree_util", "gpuad.scipy", "gpuad.kernels",
                        "numba", "scipy") if m in median_run]
    print(f"loaded by `import gpuad` among the lazy ones: {lazy or 'none'}")


if __name__ == "__main__":
    main()

"""What a GPU run ran on, for benchmarks/gpu/run_all.sh: nvidia-smi, the versions of Python,
CuPy, Numba, numba-cuda, NumPy and the test tools, CUDA runtime and driver versions, the device,
and which gpuad (its git commit, or a digest of gpuad/ where the tree has no .git).

    python benchmarks/gpu/_environment.py --out DIR   # DIR/environment.txt and .json

Every probe is guarded: a missing library or a failing call is recorded, never raised, so the
file is complete on any machine (also one without a GPU, where run_all.sh's other steps fail).
"""
import argparse
import contextlib
import datetime
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DISTRIBUTIONS = ("cupy-cuda13x", "cupy-cuda12x", "cupy", "cuda-pathfinder", "cuda-python",
                 "cuda-bindings", "numba", "numba-cuda", "numpy", "scipy", "pytest",
                 "pytest-benchmark", "hypothesis", "matplotlib", "mpi4py", "torch", "jax")
ENV_PREFIXES = ("CUDA_", "CUPY_", "NUMBA_", "GPUAD_", "NCCL_")


def _run(cmd, timeout=30):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return (out.stdout + out.stderr).strip() or f"(no output, exit {out.returncode})"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"({type(exc).__name__}: {exc})"


def _guarded(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 (a probe reports whatever goes wrong)
        return f"({type(exc).__name__}: {exc})"


def _git(*args):
    try:
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _printed(fn):
    """What `fn()` prints, and its error if it raises."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = _guarded(fn)
    return out.getvalue() + (result if isinstance(result, str) else "")


def gpuad_source():
    """The git commit (and whether the tree differs from it) where there is one, and a digest
    of gpuad/'s Python files, which a copy of the tree without .git keeps too."""
    digest = hashlib.sha1()
    for folder, _, files in sorted(os.walk(os.path.join(ROOT, "gpuad"))):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, ROOT).encode())
                with open(path, "rb") as f:
                    digest.update(f.read())
    head = _git("rev-parse", "HEAD")
    if head and _git("status", "--porcelain", "--untracked-files=no"):
        head += " (with uncommitted changes)"
    return {"commit": head or "(no git repository here)", "sha1_of_gpuad_py": digest.hexdigest()}


def versions():
    found = {"python": f"{platform.python_version()} ({sys.executable})"}
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def cupy_facts():
    import cupy
    runtime = cupy.cuda.runtime
    facts = {"cupy": cupy.__version__,
             "cuda_runtime": _guarded(runtime.runtimeGetVersion),
             "cuda_driver": _guarded(runtime.driverGetVersion),
             "devices": _guarded(runtime.getDeviceCount)}
    props = _guarded(lambda: runtime.getDeviceProperties(0))
    if isinstance(props, dict):
        name = props.get("name", b"")
        facts["device0"] = {"name": name.decode() if isinstance(name, bytes) else name,
                            "compute_capability": f"{props.get('major')}.{props.get('minor')}",
                            "total_memory_bytes": props.get("totalGlobalMem"),
                            "multiprocessors": props.get("multiProcessorCount")}
    else:
        facts["device0"] = props
    facts["show_config"] = _printed(cupy.show_config)
    return facts


def numba_cuda_facts():
    from numba import cuda
    facts = {"available": _guarded(cuda.is_available)}
    facts["detect"] = _printed(cuda.detect)
    facts["runtime_version"] = _guarded(lambda: cuda.runtime.get_version())
    facts["driver_version"] = _guarded(lambda: cuda.cudadrv.driver.driver.get_version())
    return facts


def gather():
    sys.path.insert(0, ROOT)
    from gpuad import backend
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "platform": platform.platform(),
        "cpus": os.cpu_count(), "gpuad": gpuad_source(), "versions": versions(),
        "gpuad_probe": _guarded(backend.probe_cupy),
        "cupy": _guarded(cupy_facts), "numba_cuda": _guarded(numba_cuda_facts),
        "environment_variables": {k: v for k, v in sorted(os.environ.items())
                                  if k.startswith(ENV_PREFIXES)},
        "nvidia_smi": _run(["nvidia-smi"]),
        "nvidia_smi_query": _run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,"
                                  "compute_cap,clocks.max.sm", "--format=csv"]),
    }


def as_text(facts):
    lines = []
    for key, value in facts.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            for k, v in value.items():
                text = str(v)
                if "\n" in text:
                    lines.append(f"  {k}:")
                    lines += ["    " + line for line in text.splitlines()]
                else:
                    lines.append(f"  {k}: {text}")
        elif "\n" in str(value):
            lines.append(f"{key}:")
            lines += ["  " + line for line in str(value).splitlines()]
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for environment.txt and .json")
    args = parser.parse_args(argv)
    facts = gather()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "environment.json"), "w") as f:
        json.dump(facts, f, indent=1, default=str)
    text = as_text(facts)
    with open(os.path.join(args.out, "environment.txt"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()

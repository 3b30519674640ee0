"""Shared timing for the benchmark scripts: medians of repeated runs, and the environment line.

Every figure in benchmarks/README.md is a median over repeated runs taken in one process, with
the compared variants measured side by side in the same run (the machines are shared).
"""
import platform
import statistics
import time


def compare(fns, min_time=0.2, rounds=7, warmup=2):
    """Median seconds per call of each function in the dict `fns`, measured side by side.

    Each round runs one batch of every function in turn (batches sized to `min_time / rounds`),
    so slow drifts of a shared machine hit all of them alike; the median over rounds is kept.
    """
    numbers = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        t0 = time.perf_counter()
        fn()
        once = max(time.perf_counter() - t0, 1e-7)
        numbers[name] = max(1, int(min_time / rounds / once))
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            n = numbers[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - t0) / n)
    return {name: statistics.median(v) for name, v in samples.items()}


def environment():
    """One line naming the machine and library versions, printed above every table."""
    import numpy
    parts = [f"python {platform.python_version()}", f"numpy {numpy.__version__}"]
    from importlib import metadata
    for name in ("numba", "numba-cuda", "autograd", "torch", "jax", "cupy-cuda12x",
                 "cupy-cuda13x"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    try:
        import os
        cores = len(os.sched_getaffinity(0))
    except Exception:
        cores = "?"
    return f"{platform.machine()} {platform.processor() or ''}, {cores} cores; " + ", ".join(parts)


def optional(name):
    """Import a peer library if installed (the `bench` extra), else None."""
    try:
        return __import__(name)
    except Exception:
        return None


def print_table(header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = " | ".join(str(h).rjust(w) for h, w in zip(header, widths))
    print("| " + line + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).rjust(w) for c, w in zip(r, widths)) + " |")


def rss_bytes():
    """This process's peak resident set (VmHWM, Linux), in bytes: memory any library allocates,
    which tracemalloc cannot see for PyTorch or JAX."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak_rss():
    """Reset VmHWM to the current resident set (Linux), so `rss_bytes` measures from now."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

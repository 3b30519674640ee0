"""Fused elementwise adjoints against the per-op rules and the eager peers.

Two chains of 8 elementwise ops on 10,000,000 elements (float32, and float64):
  cheap:          z = max(x*y + 0.5, 0); where(x > 0, z*z, 0.1*z) - y, summed
  transcendental: tanh(sin(x)*x + exp(-x^2)) * cos(x), summed
For each: value_and_grad time of gpuad fused, gpuad fused with eager forward values
(`config.fusion_forward = False`), gpuad unfused (`config.fusion = False`),
PyTorch eager, JAX eager and `jax.jit` (bench extra), as multiples of NumPy's value time;
gpuad's backward time as a multiple of one NumPy copy of x (the memory-bandwidth floor); and
peak extra memory as a multiple of size(x): gpuad's by `gpuad.memory` (tracemalloc), every
library's by process resident-set growth in a fresh subprocess (tracemalloc cannot see PyTorch
or JAX). The first call's kernel compile time is printed too (cached on disk afterwards).

    python benchmarks/fusion.py [--size 10000000] [--dtype float32] [--quick]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import environment, optional, print_table, reset_peak_rss, rss_bytes  # noqa: E402


def chains(lib):
    """The two chains written against a NumPy-like namespace `lib`."""
    # torch.maximum takes no Python scalar: clamp_min is its maximum with one
    floor_at = getattr(lib, "clamp_min", lib.maximum)

    def cheap(x, y):
        z = floor_at(x * y + 0.5, 0.0)
        return lib.sum(lib.where(x > 0, z * z, z * 0.1) - y)

    def transcendental(x, y):
        return lib.sum(lib.tanh(lib.sin(x) * x + lib.exp(-(x * x))) * lib.cos(x) + y)
    return {"cheap": cheap, "transcendental": transcendental}


def inputs(size, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(size).astype(dtype), rng.standard_normal(size).astype(dtype))


def runner(kind, chain, size, dtype):
    """A zero-argument function running one value_and_grad (or NumPy's value) for `kind`."""
    x, y = inputs(size, dtype)
    if kind == "numpy value":
        f = chains(np)[chain]
        return lambda: f(x, y)
    if kind == "numpy copy of x":
        return lambda: x.copy()
    if kind.startswith("gpuad"):
        import gpuad as ga
        import gpuad.numpy as gnp
        ga.config.fusion = kind != "gpuad unfused"
        ga.config.fusion_forward = kind == "gpuad fused"  # else the forward values are eager
        vg = ga.value_and_grad(chains(gnp)[chain], argnums=(0, 1))
        return lambda: vg(x, y)
    if kind == "PyTorch eager":
        import torch
        f = chains(torch)[chain]
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def run():
            a, b = xt.detach().requires_grad_(), yt.detach().requires_grad_()
            out = f(a, b)
            return out, torch.autograd.grad(out, (a, b))
        return run
    import jax
    import jax.numpy as jnp
    f = chains(jnp)[chain]
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    vg = jax.value_and_grad(f, argnums=(0, 1))
    if kind == "JAX jit":
        vg = jax.jit(vg).lower(xj, yj).compile()
    return lambda: jax.block_until_ready(vg(xj, yj))


def median_seconds(fn, repeats, sync=lambda: None):
    """Median seconds of `repeats` calls after one warm-up; `sync` waits for a device's queued
    work (CuPy, PyTorch CUDA) so that each timing covers the work, not just its launch."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def child(kind, chain, size, dtype, repeats):
    run = runner(kind, chain, size, dtype)
    if kind in ("PyTorch eager",):
        small = runner(kind, chain, 16, dtype)
        small()  # PyTorch initializes lazily: not this workload's memory
    t0 = time.perf_counter()
    run()  # compiles (Numba, JAX): the steady state's memory is measured on a second call
    first = time.perf_counter() - t0
    reset_peak_rss()
    base = rss_bytes()
    run()
    peak = rss_bytes() - base
    print(json.dumps({"seconds": median_seconds(run, repeats), "first_call": first,
                      "process_peak_bytes": peak}))


# (row, config.fusion, config.fusion_forward)
DETAIL = [("fused", True, True), ("fused, eager forward", True, False), ("unfused", False, False)]


def gpuad_detail(chain, size, dtype, repeats):
    """Backward-only times and tracemalloc peaks, fused and unfused, in this process."""
    import gpuad as ga
    import gpuad.memory
    import gpuad.numpy as gnp
    x, y = inputs(size, dtype)
    f = chains(gnp)[chain]
    out = {}
    for name, fused, lazy in DETAIL:
        ga.config.fusion, ga.config.fusion_forward = fused, lazy
        _, vjp_fn = ga.vjp(f, x, y)
        one = np.ones((), dtype)
        backward = median_seconds(lambda: vjp_fn(one), repeats)
        with gpuad.memory.track() as m:
            ga.value_and_grad(f, argnums=(0, 1))(x, y)
        out[name] = {"backward": backward, "peak": m.peak_bytes}
    ga.config.fusion, ga.config.fusion_forward = True, True
    with gpuad.memory.track() as m:  # NumPy's own temporaries: the floor of any eager forward
        chains(np)[chain](x, y)
    out["numpy value"] = {"peak": m.peak_bytes}
    return out


def crossover(dtype, repeats=15):
    """value_and_grad time fused and unfused at small sizes: where fusion starts to pay
    (`config.fusion_min_size`)."""
    import gpuad as ga
    import gpuad.numpy as gnp
    saved = ga.config.fusion_min_size
    ga.config.fusion_min_size = 1
    rows = []
    for size in (256, 1024, 4096, 16384, 65536, 262144, 1048576):
        row = [f"{size:,}"]
        for chain in ("cheap", "transcendental"):
            x, y = inputs(size, dtype)
            vg = ga.value_and_grad(chains(gnp)[chain], argnums=(0, 1))
            times = {}
            for fused in (True, False):
                ga.config.fusion = fused
                times[fused] = median_seconds(lambda: vg(x, y), repeats)
            row += [f"{times[True] * 1e6:.0f}", f"{times[False] * 1e6:.0f}",
                    f"{times[False] / times[True]:.2f}x"]
        rows.append(row)
    ga.config.fusion, ga.config.fusion_min_size = True, saved
    print(f"\nvalue_and_grad (us), {np.dtype(dtype).name}: fused vs unfused, by size")
    print_table(["elements", "cheap fused", "unfused", "speed-up",
                 "transc. fused", "unfused", "speed-up"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100,000 elements, 2 repeats")
    parser.add_argument("--crossover", action="store_true",
                        help="only the small-size table that sets config.fusion_min_size")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.repeats = 100_000, 2
    dtype = np.dtype(args.dtype)
    if args.child:
        return child(args.child[0], args.child[1], args.size, dtype, args.repeats)
    print(environment())
    if args.crossover:
        return crossover(dtype)
    # an empty kernel cache: the first fused call compiles, a second process loads from disk
    env = dict(os.environ, GPUAD_CACHE_DIR=tempfile.mkdtemp(prefix="gpuad-bench-kernels-"))
    nbytes = args.size * dtype.itemsize
    kinds = ["numpy value", "numpy copy of x", "gpuad fused", "gpuad fused, eager forward",
             "gpuad unfused"]
    if optional("torch") is not None:
        kinds.append("PyTorch eager")
    if optional("jax") is not None:
        kinds += ["JAX eager", "JAX jit"]
    for chain in ("cheap", "transcendental"):
        results = {}
        for kind in kinds:
            cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, chain,
                   "--size", str(args.size), "--dtype", args.dtype,
                   "--repeats", str(args.repeats)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode == 0:
                results[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
            else:
                print(f"  {chain} {kind} failed: {proc.stderr.strip()[-300:]}", file=sys.stderr)
            if kind == "gpuad fused":
                again = subprocess.run(cmd[:-1] + ["1"], capture_output=True, text=True, env=env)
                if again.returncode == 0:
                    results["disk cache"] = json.loads(again.stdout.strip().splitlines()[-1])
            print(f"  {chain} {kind} done", file=sys.stderr)
        detail = gpuad_detail(chain, args.size, dtype, args.repeats)
        value = results["numpy value"]["seconds"]
        copy = results["numpy copy of x"]["seconds"]
        rows = []
        for kind in kinds[2:]:
            if kind not in results:
                continue
            r = results[kind]
            rows.append([kind, f"{r['seconds'] * 1e3:.1f}", f"{r['seconds'] / value:.2f}x",
                         f"{r['process_peak_bytes'] / nbytes:.1f}x"])
        print(f"\n{chain} chain, {args.size:,} {args.dtype}: NumPy value {value * 1e3:.1f} ms, "
              f"NumPy copy of x {copy * 1e3:.1f} ms")
        print_table(["value_and_grad", "ms", "/ NumPy value", "process peak / size(x)"], rows)
        floor = detail["numpy value"]["peak"]
        print_table(["gpuad backward", "ms", "/ copy of x", "tracemalloc peak / size(x)",
                     "beyond NumPy's own value peak"],
                    [[name, f"{d['backward'] * 1e3:.1f}", f"{d['backward'] / copy:.1f}x",
                      f"{d['peak'] / nbytes:.1f}x", f"{(d['peak'] - floor) / nbytes:.1f}x"]
                     for name, d in ((name, detail[name]) for name, _, _ in DETAIL)])
        print(f"NumPy's value alone peaks at {floor / nbytes:.1f}x size(x) of temporaries")
        first = results.get("gpuad fused", {}).get("first_call")
        warm = results.get("disk cache", {}).get("first_call")
        if first is not None and warm is not None:
            print(f"first fused value_and_grad: {first:.2f} s with an empty kernel cache "
                  f"(compiling), {warm:.2f} s in a new process loading the kernels from disk")


if __name__ == "__main__":
    main()

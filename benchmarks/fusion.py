"""Fused elementwise adjoints against the per-op rules and the eager peers.

Two chains of 8 elementwise ops on 10,000,000 elements (float32, and float64):
  cheap:          z = max(x*y + 0.5, 0); where(x > 0, z*z, 0.1*z) - y, summed
  transcendental: tanh(sin(x)*x + exp(-x^2)) * cos(x), summed
For each: value_and_grad time of gpuad fused, gpuad unfused (`config.fusion = False`),
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
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import environment, optional, print_table, reset_peak_rss, rss_bytes  # noqa: E402


def chains(lib):
    """The two chains written against a NumPy-like namespace `lib`."""
    def cheap(x, y):
        z = lib.maximum(x * y + 0.5, 0.0)
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
        ga.config.fusion = kind == "gpuad fused"
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


def median_seconds(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def child(kind, chain, size, dtype, repeats):
    run = runner(kind, chain, size, dtype)
    if kind in ("PyTorch eager",):
        small = runner(kind, chain, 16, dtype)
        small()  # PyTorch initializes lazily: not this workload's memory
    reset_peak_rss()
    base = rss_bytes()
    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    peak = rss_bytes() - base
    print(json.dumps({"seconds": median_seconds(run, repeats), "first_call": first,
                      "process_peak_bytes": peak}))


def gpuad_detail(chain, size, dtype, repeats):
    """Backward-only times and tracemalloc peaks, fused and unfused, in this process."""
    import gpuad as ga
    import gpuad.memory
    import gpuad.numpy as gnp
    x, y = inputs(size, dtype)
    f = chains(gnp)[chain]
    out = {}
    for fused in (True, False):
        ga.config.fusion = fused
        _, vjp_fn = ga.vjp(f, x, y)
        one = np.ones((), dtype)
        backward = median_seconds(lambda: vjp_fn(one), repeats)
        with gpuad.memory.track() as m:
            ga.value_and_grad(f, argnums=(0, 1))(x, y)
        out[fused] = {"backward": backward, "peak": m.peak_bytes}
    ga.config.fusion = True
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100,000 elements, 2 repeats")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.repeats = 100_000, 2
    dtype = np.dtype(args.dtype)
    if args.child:
        return child(args.child[0], args.child[1], args.size, dtype, args.repeats)
    print(environment())
    nbytes = args.size * dtype.itemsize
    kinds = ["numpy value", "numpy copy of x", "gpuad fused", "gpuad unfused"]
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
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode == 0:
                results[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
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
        fused, unfused = detail[True], detail[False]
        print_table(["gpuad backward", "ms", "/ copy of x", "tracemalloc peak / size(x)"],
                    [["fused", f"{fused['backward'] * 1e3:.1f}",
                      f"{fused['backward'] / copy:.1f}x", f"{fused['peak'] / nbytes:.1f}x"],
                     ["unfused", f"{unfused['backward'] * 1e3:.1f}",
                      f"{unfused['backward'] / copy:.1f}x", f"{unfused['peak'] / nbytes:.1f}x"]])
        first = results.get("gpuad fused", {}).get("first_call")
        if first is not None:
            print(f"first fused call (kernel compile, or load from the disk cache): {first:.2f} s")


if __name__ == "__main__":
    main()

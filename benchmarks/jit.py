"""Eager against replayed (`ga.jit`): (a) a small MLP's value_and_grad step, (b) the per-op
overhead chain of overhead.py (forward + backward of 1000 elementwise ops on 8 elements), with
the recording's own cost (one first call) beside them.

Run: python benchmarks/jit.py [--length 1000] [--size 8] [--min-time 1.0]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from overhead import chain  # noqa: E402
from timing import compare, environment, print_table  # noqa: E402


def mlp_loss(gnp):
    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = gnp.tanh(h @ w + b)
        w, b = params[-1]
        return gnp.mean((h @ w + b - y) ** 2)
    return loss


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per variant")
    args = parser.parse_args(argv)

    import gpuad as ga
    import gpuad.numpy as gnp
    rng = np.random.default_rng(0)
    sizes = (16, 32, 32, 1)
    params = [(rng.standard_normal((m, n)) / np.sqrt(m), np.zeros(n))
              for m, n in zip(sizes[:-1], sizes[1:])]
    x, y = rng.standard_normal((64, 16)), rng.standard_normal((64, 1))
    eager_step = ga.value_and_grad(mlp_loss(gnp))
    jit_step = ga.jit(eager_step)
    t0 = time.perf_counter()
    jit_step(params, x, y)
    record_mlp = time.perf_counter() - t0

    n = args.length
    v = rng.uniform(-1, 1, args.size)
    eager_chain = ga.grad(lambda v: chain(gnp, v, n))
    jit_chain = ga.jit(eager_chain)
    t0 = time.perf_counter()
    jit_chain(v)
    record_chain = time.perf_counter() - t0

    times = compare({"mlp eager": lambda: eager_step(params, x, y),
                     "mlp jit": lambda: jit_step(params, x, y),
                     "chain eager": lambda: eager_chain(v),
                     "chain jit": lambda: jit_chain(v),
                     "chain NumPy forward only": lambda: chain(np, v, n)}, args.min_time)
    print(environment())
    print(f"(a) MLP {sizes} value_and_grad, batch 64; (b) chain of {n} ops on {args.size} "
          f"elements, forward+backward; medians of interleaved batches")
    rows = [["(a) MLP step", f"{times['mlp eager'] * 1e6:.0f} us", f"{times['mlp jit'] * 1e6:.0f} us",
             f"{times['mlp eager'] / times['mlp jit']:.2f}x", f"{record_mlp * 1e6:.0f} us"],
            ["(b) chain, per op", f"{times['chain eager'] / n * 1e6:.2f} us",
             f"{times['chain jit'] / n * 1e6:.2f} us",
             f"{times['chain eager'] / times['chain jit']:.2f}x",
             f"{record_chain / n * 1e6:.2f} us"]]
    print_table(["workload", "eager", "jit replay", "speedup", "recording (1st call)"], rows)
    print(f"NumPy forward alone on the chain: {times['chain NumPy forward only'] / n * 1e6:.2f} "
          f"us per op")


if __name__ == "__main__":
    main()

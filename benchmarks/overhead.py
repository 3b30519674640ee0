"""Per-op overhead: forward + backward of a chain of 1000 elementwise ops on an array of 8
elements, divided by 1000, for gpuad and (where installed) autograd, PyTorch eager, JAX eager,
beside plain NumPy's forward alone. At this size the arithmetic is free: this measures the tape.

The chain cycles through sin, multiply by a scalar, tanh, add a scalar.

Run: python benchmarks/overhead.py [--length 1000] [--size 8]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from timing import compare, environment, optional, print_table  # noqa: E402


def chain(np_, x, length):
    for _ in range(length // 4):
        x = np_.sin(x)
        x = x * 1.01
        x = np_.tanh(x)
        x = x + 0.5
    return np_.sum(x)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per variant")
    args = parser.parse_args(argv)
    n, size = args.length, args.size

    import gpuad as ga
    import gpuad.numpy as gnp
    x = np.random.default_rng(0).uniform(-1, 1, size)
    g = ga.grad(lambda x: chain(gnp, x, n))
    fns = {"NumPy forward only": lambda: chain(np, x, n), "gpuad forward+backward": lambda: g(x)}
    autograd, torch, jax = optional("autograd"), optional("torch"), optional("jax")
    if autograd:
        import autograd.numpy as anp
        ag = autograd.grad(lambda x: chain(anp, x, n))
        fns["autograd forward+backward"] = lambda: ag(x)
    if torch:
        xt = torch.tensor(x)

        def torch_grad():
            xr = xt.detach().requires_grad_(True)
            return torch.autograd.grad(chain(torch, xr, n), xr)
        fns["PyTorch eager forward+backward"] = torch_grad
    if jax:
        import jax.numpy as jnp
        xj = jnp.asarray(x)
        jg = jax.grad(lambda x: chain(jnp, x, n))
        fns["JAX eager forward+backward"] = lambda: jg(xj).block_until_ready()
    times = compare(fns, args.min_time)
    ours = times["gpuad forward+backward"]
    print(environment())
    print(f"chain of {n} elementwise ops on {size} elements, microseconds per op "
          f"(medians of interleaved batches):")
    print_table(["what", "us per op", "relative to gpuad"],
                [[k, f"{t / n * 1e6:.2f}", f"{t / ours:.2f}x"] for k, t in times.items()])


if __name__ == "__main__":
    main()

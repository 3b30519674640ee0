"""Hessian-vector products: time(ga.hvp) / time(ga.grad), against forming the Hessian
(`ga.hessian(f)(x) @ v`, n <= 1000) and JAX's eager forward-over-reverse hvp, side by side.

f(x) = sum(tanh(A @ x)) + 0.5 * sum(x**2) * mean(cos(x)) with A n x n: f costs O(n^2) and its
Hessian is dense, so the ratio measures the cost of the extra forward-mode pass through the
gradient, which should be a small constant (target <= 4, flat in n).

    python benchmarks/hvp.py [--sizes 10 100 1000 10000] [--quick]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import compare, environment, optional, print_table  # noqa: E402


def f(np_, x, A):
    return np_.sum(np_.tanh(A @ x)) + 0.5 * np_.sum(x * x) * np_.mean(np_.cos(x))


def functions(n, seed=0):
    import gpuad as ga
    import gpuad.numpy as gnp
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    fg = lambda x: f(gnp, x, A)  # noqa: E731
    grad = ga.grad(fg)
    fns = {"grad": lambda: grad(x), "hvp": lambda: ga.hvp(fg, (x,), (v,))}
    if n <= 1000:
        hessian = ga.hessian(fg)
        fns["hessian(f)(x) @ v"] = lambda: hessian(x) @ v
        np.testing.assert_allclose(fns["hvp"](), fns["hessian(f)(x) @ v"](), rtol=1e-8,
                                   atol=1e-10)
    jax = optional("jax")
    if jax:
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        Aj, xj, vj = jnp.asarray(A), jnp.asarray(x), jnp.asarray(v)
        jgrad = jax.grad(lambda x: f(jnp, x, Aj))
        fns["JAX eager grad"] = lambda: jgrad(xj).block_until_ready()
        fns["JAX eager hvp"] = lambda: jax.jvp(jgrad, (xj,), (vj,))[1].block_until_ready()
        np.testing.assert_allclose(np.asarray(fns["JAX eager hvp"]()), fns["hvp"](),
                                   rtol=1e-8, atol=1e-10)
    return fns


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--min-time", type=float, default=1.0)
    parser.add_argument("--quick", action="store_true", help="n up to 1000, short timings")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.min_time = [n for n in args.sizes if n <= 1000], 0.1
    print(environment())
    header = ["n", "grad us", "hvp / grad", "hessian@v / grad", "JAX eager hvp / JAX grad",
              "JAX eager hvp / gpuad grad"]
    rows = []
    for n in args.sizes:
        t = compare(functions(n), args.min_time, rounds=5, warmup=1)
        g = t["grad"]
        rows.append([n, f"{g * 1e6:.0f}", f"{t['hvp'] / g:.2f}",
                     f"{t['hessian(f)(x) @ v'] / g:.1f}" if "hessian(f)(x) @ v" in t else "-",
                     f"{t['JAX eager hvp'] / t['JAX eager grad']:.2f}" if "JAX eager hvp" in t
                     else "n/a",
                     f"{t['JAX eager hvp'] / g:.1f}" if "JAX eager hvp" in t else "n/a"])
        print(f"  n={n} done", file=sys.stderr)
    print("time ratios, medians of interleaved batches:")
    print_table(header, rows)


if __name__ == "__main__":
    main()

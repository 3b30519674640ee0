"""The Helmholtz free energy (Baydin et al., "Automatic differentiation in machine learning: a
survey", Table 4): time of the full gradient divided by the time of f in plain NumPy, for gpuad
and, where installed (`pip install ".[bench]"`), autograd, PyTorch eager and JAX eager.

    f(x) = R T sum_i x_i log(x_i / (1 - b.x))
           - x.A.x / (sqrt(8) b.x) log((1 + (1 + sqrt 2) b.x) / (1 + (1 - sqrt 2) b.x))

All variants of one n are timed side by side (benchmarks/timing.py: interleaved batches, medians).
Run: python benchmarks/helmholtz.py [--sizes 1 10 50 200 1000]
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from timing import compare, environment, optional, print_table  # noqa: E402

R, T = 1.0, 1.0
S2 = math.sqrt(2.0)


def helmholtz(np_, x, b, A):
    bx = b @ x
    return (R * T * np_.sum(x * np_.log(x / (1.0 - bx)))
            - (x @ (A @ x)) / (math.sqrt(8.0) * bx)
            * np_.log((1.0 + (1.0 + S2) * bx) / (1.0 + (1.0 - S2) * bx)))


def problem(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.1, 0.5, n)
    b = rng.uniform(0.0, 1.0, n) / n
    m = rng.uniform(0.0, 1.0, (n, n))
    return x, b, (m + m.T) / 2


def gradient_functions(n):
    """The functions timed for size n: f in NumPy, and each library's full gradient."""
    import gpuad as ga
    import gpuad.numpy as gnp
    x, b, A = problem(n)
    fns = {"f": lambda: helmholtz(np, x, b, A)}
    g = ga.grad(lambda x: helmholtz(gnp, x, b, A))
    fns["gpuad"] = lambda: g(x)
    autograd, torch, jax = optional("autograd"), optional("torch"), optional("jax")
    if autograd:
        import autograd.numpy as anp
        ag = autograd.grad(lambda x: helmholtz(anp, x, b, A))
        fns["autograd"] = lambda: ag(x)
    if torch:
        xt, bt, At = (torch.tensor(v) for v in (x, b, A))

        def torch_grad():
            xr = xt.detach().requires_grad_(True)
            return torch.autograd.grad(helmholtz(torch, xr, bt, At), xr)
        fns["PyTorch eager"] = torch_grad
    if jax:
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        xj, bj, Aj = (jnp.asarray(v) for v in (x, b, A))
        jg = jax.grad(lambda x: helmholtz(jnp, x, bj, Aj))
        fns["JAX eager"] = lambda: jg(xj).block_until_ready()
    return fns


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50, 200, 1000])
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per variant and n")
    args = parser.parse_args(argv)
    print(environment())
    header = ["n", "f (NumPy) us", "gpuad", "autograd", "PyTorch eager", "JAX eager"]
    rows = []
    for n in args.sizes:
        times = compare(gradient_functions(n), args.min_time)
        t_f = times["f"]
        rows.append([n, f"{t_f * 1e6:.1f}"] + [
            f"{times[k] / t_f:.2f}x" if k in times else "n/a" for k in header[2:]])
    print("time(gradient) / time(f in NumPy), medians of interleaved batches:")
    print_table(header, rows)


if __name__ == "__main__":
    main()

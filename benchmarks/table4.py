"""The shape of Baydin et al.'s Table 4: the full gradient of the Helmholtz free energy by
forward mode, by reverse mode and by central finite differences, each divided by time(f).

Forward mode needs one JVP per input (n of them): `ga.jacfwd` pushes the n basis tangents
through one batched evaluation, and "n x jvp" makes n separate `ga.jvp` calls. Finite
differences evaluate f (NumPy) 2n times. Reverse mode (`ga.grad`) is one backward sweep. So
reverse stays flat in n while the other three grow O(n). Timed side by side per n
(benchmarks/timing.py: interleaved batches, medians).

    python benchmarks/table4.py [--sizes 1 10 50 200 1000] [--quick]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helmholtz import helmholtz, problem  # noqa: E402
from timing import compare, environment, print_table  # noqa: E402


def functions(n):
    import gpuad as ga
    import gpuad.numpy as gnp
    x, b, A = problem(n)
    f_np = lambda x: helmholtz(np, x, b, A)  # noqa: E731
    f = lambda x: helmholtz(gnp, x, b, A)  # noqa: E731
    basis = np.eye(n)
    grad, jacfwd = ga.grad(f), ga.jacfwd(f)

    def n_jvps():
        return np.array([ga.jvp(f, (x,), (e,))[1] for e in basis])

    def central_differences(h=1e-6):
        return np.array([(f_np(x + h * e) - f_np(x - h * e)) / (2 * h) for e in basis])

    fns = {"f": lambda: f_np(x), "reverse (grad)": lambda: grad(x),
           "forward (jacfwd)": lambda: jacfwd(x), "forward (n x jvp)": n_jvps,
           "central differences": central_differences}
    # the four gradients agree (finite differences to their truncation error)
    ref = grad(x)
    for name in ("forward (jacfwd)", "forward (n x jvp)"):
        np.testing.assert_allclose(fns[name](), ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(central_differences(), ref, rtol=1e-4, atol=1e-6)
    return fns


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50, 200, 1000])
    parser.add_argument("--min-time", type=float, default=1.0)
    parser.add_argument("--quick", action="store_true", help="n up to 200, short timings")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.min_time = [n for n in args.sizes if n <= 200], 0.1
    print(environment())
    header = ["n", "f (NumPy) us", "reverse (grad)", "forward (jacfwd)", "forward (n x jvp)",
              "central differences"]
    rows = []
    for n in args.sizes:
        times = compare(functions(n), args.min_time, rounds=5, warmup=1)
        t_f = times["f"]
        rows.append([n, f"{t_f * 1e6:.1f}"] + [f"{times[k] / t_f:.1f}x" for k in header[2:]])
        print(f"  n={n} done", file=sys.stderr)
    print("time(full gradient) / time(f in NumPy):")
    print_table(header, rows)


if __name__ == "__main__":
    main()

"""How right `forecast` is: its predicted peak against the peak `gpuad.memory` measures.

For the tanh RNN and the LSTM of `bptt.py` (loss on all steps) over a grid of shapes, both
float dtypes, and parameters closed over or passed per step through xs (a per-step bias, so
the xs take cotangents), every schedule's `forecast(...).peak_bytes["total"]` is compared with
the peak of `value_and_grad` under `gpuad.memory.track` (measured warm: one run first). Target
(issue 17): within ±15% everywhere.

    python benchmarks/forecast_accuracy.py [--quick] [--json out.json]
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import environment, print_table  # noqa: E402

# (hidden, batch, length): small and medium shapes of the range
SHAPES = [(16, 8, 100), (64, 32, 400), (128, 16, 1000), (256, 32, 200)]
QUICK_SHAPES = [(16, 8, 100), (64, 32, 400)]


def problem(model, hidden, batch, length, dtype, params_as_xs, inputs=32, seed=0):
    """(step, init, xs, params, loss(params, xs, schedule)) for one configuration. With
    `params_as_xs` the bias is a per-step parameter (one row per step, in xs)."""
    import gpuad.numpy as gnp
    from gpuad.checkpoint import scan
    from gpuad.scipy.special import expit
    rng = np.random.default_rng(seed)
    gates = 4 if model == "lstm" else 1
    w = (rng.standard_normal((inputs + hidden, gates * hidden))
         / np.sqrt(inputs + hidden)).astype(dtype)
    b = np.zeros((length, gates * hidden) if params_as_xs else gates * hidden, dtype)
    x = rng.standard_normal((length, batch, inputs)).astype(dtype)
    zeros = np.zeros((batch, hidden), dtype)
    init = zeros if model == "rnn" else (zeros, zeros)

    def make_step(w, b):
        def step(carry, xt):
            xi, bi = xt if params_as_xs else (xt, b)
            if model == "rnn":
                h = gnp.tanh(gnp.concatenate([xi, carry], axis=1) @ w + bi)
                return h, gnp.mean(h * h)
            h, c = carry
            i, f, o, u = gnp.split(gnp.concatenate([xi, h], axis=1) @ w + bi, 4, axis=1)
            c = expit(f) * c + expit(i) * gnp.tanh(u)
            h = expit(o) * gnp.tanh(c)
            return (h, c), gnp.mean(h * h)
        return step

    def loss(params, schedule):
        w, b = params
        xs = (x, b) if params_as_xs else x
        _, ys = scan(make_step(w, b), init, xs, schedule=schedule)
        return gnp.sum(ys)

    params = (w, b)
    xs = (x, b) if params_as_xs else x
    closed = (w,) if params_as_xs else (w, b)
    return make_step(w, b), init, xs, closed, loss, params


def schedules(base):
    """Every schedule kind; the Budgets at 25% and 10% of the way from what every plan holds
    (`outputs_bytes`) to StoreAll's forecast peak (a share of StoreAll's whole peak is below
    the minimum at small shapes, where the outputs dominate)."""
    from gpuad.checkpoint import Budget, EveryK, Online, Revolve, StoreAll
    other, top = base.outputs_bytes, base.store_all_peak_bytes["total"]
    return [StoreAll(), EveryK(1), EveryK(16), Revolve(8), Revolve(32), Online(32),
            Budget(int(other + 0.25 * (top - other))), Budget(int(other + 0.10 * (top - other)))]


def measured_peak(vg, params, schedule):
    import gpuad.memory
    vg(params, schedule)  # warm: kernels compiled, caches filled
    # CPython's freelists full, as a long run keeps them (what earlier code left in them moved
    # a peak by up to 20%: a step takes its tuples from them first, unseen by tracemalloc)
    spare = [tuple(range(k)) for k in range(1, 21) for _ in range(2000)]
    del spare
    with gpuad.memory.track(device="host") as m:
        vg(params, schedule)
    return m.peak_bytes


def rows_for(model, hidden, batch, length, dtype, params_as_xs):
    import gpuad as ga
    from gpuad.checkpoint import StoreAll, forecast
    step, init, xs, closed, loss, params = problem(model, hidden, batch, length, dtype,
                                                    params_as_xs)
    vg = ga.value_and_grad(loss)
    grad_xs = (False, True) if params_as_xs else False
    base = forecast(step, init, xs, schedule=StoreAll(), params=closed, grad_xs=grad_xs)
    rows = []
    for schedule in schedules(base):
        try:
            fc = forecast(step, init, xs, schedule=schedule, params=closed,
                          grad_xs=grad_xs)
        except ValueError as exc:  # a Budget too small for this shape says so
            print(f"  {schedule!r}: {exc}", file=sys.stderr)
            continue
        peak = measured_peak(vg, params, schedule)
        predicted = fc.peak_bytes["total"]
        rows.append({"model": model, "hidden": hidden, "batch": batch, "length": length,
                     "dtype": np.dtype(dtype).name, "params": "xs" if params_as_xs else
                     "closed", "schedule": schedule.name, "predicted_bytes": predicted,
                     "measured_bytes": peak, "error": predicted / peak - 1})
        print(f"    {schedule.name}: {predicted} vs {peak} ({100 * rows[-1]['error']:+.0f}%)",
              file=sys.stderr)
    return rows


def grid(quick):
    shapes = QUICK_SHAPES if quick else SHAPES
    for model in ("rnn", "lstm"):
        for k, (hidden, batch, length) in enumerate(shapes):
            for dtype in (np.float32, np.float64):
                for params_as_xs in (False, True):
                    # every shape in both dtypes and both ways of passing parameters, but
                    # float64 with xs only on every other shape (it adds little: same terms)
                    if dtype is np.float64 and params_as_xs and k % 2:
                        continue
                    yield model, hidden, batch, length, dtype, params_as_xs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two small shapes only")
    parser.add_argument("--models", default="rnn,lstm")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    print(environment())
    rows = []
    for config in grid(args.quick):
        if config[0] in args.models.split(","):
            print("  ", config[:4], np.dtype(config[4]).name, config[5], file=sys.stderr)
            rows += rows_for(*config)
    print_table(["model", "hidden", "batch", "T", "dtype", "params", "schedule",
                 "forecast (KiB)", "measured (KiB)", "error"],
                [[r["model"], r["hidden"], r["batch"], r["length"], r["dtype"], r["params"],
                  r["schedule"], f"{r['predicted_bytes'] / 1024:.0f}",
                  f"{r['measured_bytes'] / 1024:.0f}", f"{100 * r['error']:+.0f}%"]
                 for r in rows])
    worst = max(rows, key=lambda r: abs(r["error"]))
    print(f"\nworst: {100 * worst['error']:+.1f}% ({worst['model']} {worst['schedule']} "
          f"h{worst['hidden']} b{worst['batch']} T{worst['length']} {worst['dtype']} "
          f"{worst['params']}); within ±15%: "
          f"{sum(abs(r['error']) <= 0.15 for r in rows)}/{len(rows)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": environment(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()

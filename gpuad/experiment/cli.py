"""`python -m gpuad`: the BPTT memory experiment (see `options.build_parser` for the options)."""
import sys
import time

import numpy as np

import gpuad as ga
from gpuad.checkpoint import Budget, format_bytes

from . import report
from .measure import feasible_budget, measure_length, peak_bytes
from .model import init_params, loss
from .options import OptionError, parse


def main(argv=None):
    try:
        args = parse(argv)
        if args.backend is not None:
            ga.set_backend(args.backend)
    except (OptionError, ga.backend.BackendError) as exc:
        print(f"python -m gpuad: error: {exc}", file=sys.stderr)
        return 2
    return run(args)


def run_main():
    """Entry point of the `gpuad-experiment` console script."""
    raise SystemExit(main())


def run(args):
    from tqdm import tqdm
    from gpuad.tasks import adding_problem, adding_baseline_loss

    started = time.perf_counter()
    backend = ga.get_backend()
    host = backend == "numpy"
    print(f"gpuad BPTT memory experiment on {backend} "
          f"({'host memory measured with tracemalloc' if host else 'device memory measured from CuPy’s allocator'}); "
          f"LSTM hidden {args.hidden}, batch {args.batch}, adding problem, float32")
    params = init_params(args.hidden, seed=args.seed)
    budget_fraction = 0.10
    rows = []
    n_configs = sum(len(_labels(args, t)) for t in args.lengths)
    with tqdm(total=n_configs, desc="measuring schedules", unit="run", leave=False,
              disable=None) as bar:
        for length in args.lengths:
            xs, targets = _data(adding_problem, args.batch, length, args.seed)
            rows += measure_length(params, xs, targets, args.schedules, budget_fraction, bar)
    print(report.table(rows))
    worst = max(r["grad_max_diff"] for r in rows)
    print(f"largest gradient difference from StoreAll over all schedules: {worst:.1e} "
          f"(checkpointing recomputes; it does not change the math)")

    training = train(args, params, adding_problem, adding_baseline_loss())
    results = {"backend": backend, "memory": "host" if host else "device",
               "hidden": args.hidden, "batch": args.batch, "seed": args.seed,
               "steps": rows, "training": training,
               "seconds": time.perf_counter() - started}
    paths = report.write_all(args.out, results, host)
    results["seconds"] = time.perf_counter() - started
    report.write_json(paths["json"], results)
    print(f"done in {results['seconds']:.0f} s. Results: {paths['json']}\n"
          f"plots: {paths['memory_plot']}\n       {paths['tradeoff_plot']}")
    return 0


def _labels(args, length):
    from .measure import schedules_for
    return schedules_for(args.schedules, length, 1)


def _data(adding_problem, batch, length, seed):
    xs, targets = adding_problem(batch, length, seed)
    return ga.numpy.asarray(xs.astype(np.float32)), ga.numpy.asarray(targets.astype(np.float32))


def train(args, params, adding_problem, baseline):
    """A short Adam run at the training length under the schedule Budget picks."""
    from tqdm import tqdm
    from gpuad import optim
    length = args.train_length
    xs, targets = _data(adding_problem, args.train_batch, length, args.seed + 1)
    if args.memory_budget is None:
        budget = feasible_budget(params, xs, targets, int(
            0.10 * peak_bytes(params, xs, targets, ga.checkpoint.StoreAll())))
    else:
        budget = args.memory_budget
    schedule = Budget(budget)
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.adam(args.learning_rate))
    state = opt.init(params)
    losses = []
    grad_fn = ga.value_and_grad(loss)
    for step in tqdm(range(args.steps), desc=f"training (T={length})", leave=False,
                     disable=None):
        xs, targets = _data(adding_problem, args.train_batch, length,
                            args.seed + 1000 + step)
        value, grads = grad_fn(params, xs, targets, schedule)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        losses.append(float(value))
    window = max(1, len(losses) // 10)
    first, last = float(np.mean(losses[:window])), float(np.mean(losses[-window:]))
    print(f"training: T={length}, batch {args.train_batch}, {args.steps} Adam steps (gradients "
          f"clipped to norm 1) under "
          f"{schedule!r} "
          f"(chose {schedule.chosen!r}): loss {first:.4f} -> {last:.4f}; trivial baseline "
          f"(always predict 1) {baseline:.4f}"
          + (" — learning" if last < baseline else " — not below the baseline yet"))
    return {"length": length, "budget_bytes": budget, "budget": format_bytes(budget),
            "chosen": repr(schedule.chosen), "losses": losses, "baseline": baseline,
            "final_loss": last}

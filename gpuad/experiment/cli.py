"""`python -m gpuad`: the BPTT memory experiment (see `options.build_parser` for the options)."""
import sys
import time

import gpuad as ga
from gpuad.checkpoint import Budget, format_bytes

from . import preflight, report
from .data import batch
from .measure import learning_verdict, measure_length, peak_bytes, schedules_for
from .model import init_params, loss
from .options import OptionError, parse

BUDGET_FRACTION = 0.10  # of StoreAll's peak, for Budget's rows and the training run's default


def main(argv=None):
    """Parse and check every option (exit status 2 and one line on stderr for a bad one),
    then run the experiment."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = preflight.check(parse(argv))
    except OptionError as exc:
        print(f"python -m gpuad: error: {exc}", file=sys.stderr)
        return 2
    if args.ranks > 1:  # sequence parallel: start the ranks, or be one of them
        import gpuad.distributed as gd

        from . import distributed
        if not gd.launched_under_mpi():
            return distributed.launch(args.ranks, argv)
        return distributed.run(args)
    return run(args)


def run_main():
    """Entry point of the `gpuad-experiment` console script."""
    raise SystemExit(main())


def run(args):
    from tqdm import tqdm

    started = time.perf_counter()
    backend = ga.get_backend()
    host = backend == "numpy"
    if args.quick_changes:
        print(f"--quick set {', '.join(args.quick_changes)}"
              + (f"; kept as given: {', '.join(args.quick_kept)}" if args.quick_kept else ""))
    print(f"gpuad BPTT memory experiment on {backend} "
          f"({'host memory measured with tracemalloc' if host else 'device memory measured from CuPy’s allocator'}); "
          f"LSTM hidden {args.hidden}, batch {args.batch}, adding problem, float32; "
          f"times: median of {args.repeats} after a warm-up")
    params = init_params(args.hidden, seed=args.seed)
    rows = []
    n_configs = sum(len(schedules_for(args.schedules, t, 1)) for t in args.lengths)
    with tqdm(total=n_configs, desc="measuring schedules", unit="run", leave=False,
              disable=None) as bar:
        for length in args.lengths:
            xs, targets = batch(args.batch, length, args.seed)
            rows += measure_length(params, xs, targets, args.schedules, BUDGET_FRACTION,
                                   args.repeats, bar)
    print(report.table(rows))
    worst = max(r["grad_max_diff"] for r in rows)
    print(f"largest gradient difference from StoreAll over all schedules: {worst:.1e} "
          f"(checkpointing recomputes; it does not change the math)")

    from gpuad.tasks import adding_baseline_loss
    training = train(args, params, adding_baseline_loss())
    results = {"backend": backend, "memory": "host" if host else "device",
               "hidden": args.hidden, "batch": args.batch, "seed": args.seed,
               "repeats": args.repeats, "budget_fraction": BUDGET_FRACTION,
               "steps": rows, "training": training,
               "seconds": time.perf_counter() - started}
    paths = report.write_all(args.out, results, host)
    results["seconds"] = time.perf_counter() - started
    report.write_json(paths["json"], results)
    print(f"done in {results['seconds']:.0f} s. Results: {paths['json']}\n"
          f"plots: {paths['memory_plot']}\n       {paths['tradeoff_plot']}")
    return 0


def train(args, params, baseline):
    """A short Adam run at the training length under the schedule Budget picks."""
    from tqdm import tqdm

    from gpuad import optim
    length = args.train_length
    if args.memory_budget is None:
        xs, targets = batch(args.train_batch, length, args.seed + 1)
        budget = max(int(BUDGET_FRACTION * peak_bytes(params, xs, targets,
                                                      ga.checkpoint.StoreAll())),
                     args.smallest_budget)
    else:
        budget = args.memory_budget
    schedule = Budget(budget)
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.adam(args.learning_rate))
    state = opt.init(params)
    losses = []
    grad_fn = ga.value_and_grad(loss)
    for step in tqdm(range(args.steps), desc=f"training (T={length})", leave=False,
                     disable=None):
        xs, targets = batch(args.train_batch, length, args.seed + 1000 + step)
        value, grads = grad_fn(params, xs, targets, schedule)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        losses.append(float(value))
    first, last, z, learning = learning_verdict(losses)
    verdict = (f"learning (the last tenth's mean loss is {z:.1f} standard errors below the "
               f"first's)" if learning else
               f"not learning yet (the last tenth is {z:.1f} standard errors below the first; "
               f"more than 2 would count)")
    print(f"training: T={length}, batch {args.train_batch}, {args.steps} Adam steps (gradients "
          f"clipped to norm 1) under {schedule!r} (chose {schedule.chosen!r}): mean loss of the "
          f"first tenth {first:.4f}, last tenth {last:.4f}; trivial baseline (always predict 1) "
          f"{baseline:.4f}: {verdict}")
    return {"length": length, "budget_bytes": budget, "budget": format_bytes(budget),
            "chosen": repr(schedule.chosen), "losses": losses, "baseline": baseline,
            "first_tenth_loss": first, "final_loss": last, "standard_errors": z,
            "learning": learning}

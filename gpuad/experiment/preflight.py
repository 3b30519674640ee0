"""Checks of `python -m gpuad`'s options that need more than their text: the backend, the
output directory, the plotting library and the training run's memory budget. All run before
any measurement, so a bad option costs seconds, not the whole table (each raises OptionError
with one line that names the option and the fix)."""
import math
import os
import tempfile

from .options import OptionError


def check(args):
    """Check everything `cli.run` will need; raise OptionError on the first problem.

    Sets the backend (from `--backend` or `GPUAD_BACKEND`) and fills `args.memory_budget`'s
    floor `args.smallest_budget` (bytes). Cheap: one LSTM step is measured, nothing trains.
    """
    check_values(args)
    check_ranks(args)
    check_backend(args.backend)
    check_out(args.out)
    check_plotting()
    args.smallest_budget = check_budget(args)
    return args


def check_values(args):
    """Ranges that the option parser's types do not express."""
    if args.train_length < 2:
        raise OptionError(f"--train-length: got {args.train_length}; give at least 2 (the "
                          f"adding problem marks two positions of each sequence)")
    if not math.isfinite(args.learning_rate) or args.learning_rate <= 0:
        raise OptionError(f"--learning-rate: got {args.learning_rate!r}; give a finite "
                          f"positive number such as 0.01")
    if args.seed < 0:
        raise OptionError(f"--seed: got {args.seed}; give an integer >= 0 (NumPy's "
                          f"default_rng refuses negative seeds)")


def check_ranks(args):
    """`--ranks N` > 1: an mpiexec to start (outside one) and mpi4py, lengths of at least N
    steps (each rank scans a chunk of the time axis) and `--microbatches` dividing `--batch`."""
    if args.microbatches > 1 and args.ranks == 1:
        raise OptionError(f"--microbatches {args.microbatches}: pipelines the batch over MPI "
                          f"ranks; give --ranks 2 or more with it")
    if args.ranks == 1:
        return
    if args.batch % args.microbatches:
        raise OptionError(f"--microbatches {args.microbatches}: must divide --batch "
                          f"{args.batch} (the ranks exchange one microbatch's carry at a time)")
    short = [t for t in args.lengths if t < args.ranks]
    if short:
        raise OptionError(f"--ranks {args.ranks}: --lengths {short[0]} has fewer steps than "
                          f"ranks; give lengths of at least {args.ranks}")
    from . import distributed
    distributed.check_launch(args.ranks)


def check_backend(requested):
    """Select the backend now: `--backend` if given, else `GPUAD_BACKEND`, else CuPy where a
    GPU answers. Returns its name."""
    import gpuad as ga
    try:
        if requested is not None:
            ga.set_backend(requested)
        return ga.get_backend()
    except (ValueError, ga.backend.BackendError) as exc:
        source = "--backend" if requested is not None else "GPUAD_BACKEND"
        raise OptionError(f"{source}: {exc}") from None


def check_out(out):
    """`--out` must be a writable directory or a path where one can be made."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise OptionError(f"--out: {out!r} exists and is not a directory; give a directory "
                          f"(it is made if missing)")
    existing = os.path.abspath(out)
    while not os.path.exists(existing):  # the nearest existing ancestor must take the new dir
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise OptionError(f"--out: {out!r} lies under {existing!r}, which is not a directory")
    # os.access alone passes anything for root, and misses read-only mounts: write a probe
    try:
        if not os.access(existing, os.W_OK | os.X_OK):
            raise PermissionError
        tempfile.TemporaryFile(dir=existing).close()
    except OSError:
        raise OptionError(f"--out: {existing!r} is not writable; give a directory you can "
                          f"write to") from None


def check_plotting():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise OptionError("the plots need matplotlib, which is not installed: "
                          "pip install matplotlib (or install gpuad with its extras)") from None


def check_budget(args):
    """The smallest budget Budget accepts at the training length; OptionError naming it when
    `--memory-budget` is below. Returns it (bytes)."""
    from gpuad.checkpoint import format_bytes

    from .data import batch
    from .measure import smallest_budget
    from .model import init_params
    xs, targets = batch(args.train_batch, args.train_length, args.seed + 1)
    smallest = smallest_budget(init_params(args.hidden, seed=args.seed), xs, targets)
    if args.memory_budget is not None and args.memory_budget < smallest:
        raise OptionError(
            f"--memory-budget: {format_bytes(args.memory_budget)} is too small for "
            f"--train-length {args.train_length} (hidden {args.hidden}, batch "
            f"{args.train_batch}); give at least {smallest} bytes ({format_bytes(smallest)})")
    return smallest

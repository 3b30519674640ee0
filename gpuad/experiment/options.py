"""Command-line options of `python -m gpuad`, checked into one-line errors."""
import argparse
import math

from ..units import parse_bytes

DEFAULT_LENGTHS = (100, 300, 1000)
SCHEDULE_NAMES = ("storeall", "everyk", "revolve", "budget", "online")


class OptionError(ValueError):
    """A bad option value: the message names the option and the accepted form."""


class _Parser(argparse.ArgumentParser):
    """argparse's own errors (an unknown option, a bad --backend) as OptionError: one line,
    like the rest, instead of the usage text."""

    def error(self, message):
        raise OptionError(f"{message} (see python -m gpuad --help)")


def parse_lengths(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < 2 for v in values):
        raise OptionError(f"--lengths: got {text!r}; give comma-separated integers >= 2, "
                          f"e.g. --lengths 100,300,1000")
    return sorted(set(values))


def parse_schedules(text):
    names = [v.strip().lower() for v in text.split(",") if v.strip()]
    bad = [n for n in names if n not in SCHEDULE_NAMES]
    if not names or bad:
        raise OptionError(f"--schedules: got {text!r}; choose from "
                          f"{','.join(SCHEDULE_NAMES)} (comma-separated)")
    if "storeall" not in names:
        names.insert(0, "storeall")  # the reference every gradient is compared with
    return names


def parse_budget(text):
    if text is None:
        return None
    try:
        return parse_bytes(text)
    except (ValueError, TypeError):
        raise OptionError(f"--memory-budget: got {text!r}; give bytes with a unit, e.g. "
                          f"512MB, 2GiB or 300000000") from None


def positive_int(option):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise OptionError(f"{option}: got {text!r}; give a positive integer")
        return value
    return parse


def integer(option):
    def parse(text):
        try:
            return int(text)
        except ValueError:
            raise OptionError(f"{option}: got {text!r}; give an integer") from None
    return parse


def number(option):
    def parse(text):
        try:
            return float(text)
        except ValueError:
            raise OptionError(f"{option}: got {text!r}; give a number such as 0.01") from None
    return parse


# (default, value under --quick, parser): options the user does not give take the default, or
# under --quick the small value; an option the user gives always wins (`parse` says so).
OPTIONS = {
    "lengths": (",".join(map(str, DEFAULT_LENGTHS)), "20,40", parse_lengths),
    "schedules": (",".join(SCHEDULE_NAMES), None, parse_schedules),
    "hidden": ("32", "16", positive_int("--hidden")),
    "batch": ("16", "8", positive_int("--batch")),
    "repeats": ("3", "1", positive_int("--repeats")),
    "memory_budget": (None, None, parse_budget),
    "steps": ("500", "30", positive_int("--steps")),
    "train_length": ("50", "10", integer("--train-length")),
    "train_batch": ("32", "16", positive_int("--train-batch")),
    "learning_rate": ("0.02", None, number("--learning-rate")),
    "seed": ("0", None, integer("--seed")),
    "out": ("gpuad-results", None, str),
    "ranks": ("1", None, positive_int("--ranks")),
    "microbatches": ("1", None, positive_int("--microbatches")),
}


def build_parser():
    d = {k: v[0] for k, v in OPTIONS.items()}
    parser = _Parser(
        prog="python -m gpuad",
        description="The BPTT memory experiment: one LSTM training step on the adding problem "
                    "under every checkpointing schedule (time, peak memory, step evaluations, "
                    "and the gradient's difference from storing everything), then a short "
                    "training run with the schedule Budget picks. Every option is checked "
                    "before anything runs.")
    # default None everywhere: `parse` tells a given option from a missing one
    add = parser.add_argument
    add("--lengths", help=f"sequence lengths T to measure, comma-separated (default: "
                          f"{d['lengths']})")
    add("--schedules", help="schedules to compare, comma-separated, from "
                            f"{','.join(SCHEDULE_NAMES)}; everyk uses k=sqrt(T), revolve runs "
                            "a few snapshot counts (default: all)")
    add("--hidden", help=f"LSTM hidden size (default: {d['hidden']})")
    add("--batch", help=f"sequences per batch (default: {d['batch']})")
    add("--repeats", help=f"timed runs per schedule after one warm-up; the table and plots "
                          f"show their median and min-max (default: {d['repeats']})")
    add("--backend", default=None, choices=["numpy", "cupy"],
        help="array backend (default: GPUAD_BACKEND if set, else CuPy if a GPU answers, "
             "else NumPy)")
    add("--memory-budget",
        help="memory budget for the training run, e.g. 512MB or 2GiB (default: 10%% of "
             "StoreAll's peak at --train-length, raised to the smallest budget that fits "
             "one stored carry and one step's tape)")
    add("--steps", help=f"Adam steps of the short training run (default: {d['steps']})")
    add("--train-length",
        help=f"sequence length of the training run, at least 2 (default: {d['train_length']}; "
             f"the adding problem at this length is learned in about 20 s on a 2-core CPU, "
             f"at T=1000 it needs far more steps than a demo should take)")
    add("--train-batch",
        help=f"sequences per batch in the training run (default: {d['train_batch']})")
    add("--learning-rate",
        help=f"Adam learning rate of the training run (default: {d['learning_rate']})")
    add("--seed", help=f"random seed, >= 0 (default: {d['seed']})")
    add("--out", help="output directory for results.json and the plots, made if missing "
                      f"(default: ./{d['out']}/)")
    add("--ranks",
        help="split each sequence's time axis over this many MPI ranks (sequence-parallel "
             "BPTT, gpuad.checkpoint.scan(comm=...)): starts mpiexec itself and reports, per "
             "schedule, time and peak memory per rank against one rank and the gradient's "
             "difference from the single-process run; needs `pip install gpuad[distributed]` "
             "(default: 1, no MPI)")
    add("--microbatches",
        help="with --ranks: the batch is split into this many microbatches pipelined over "
             "the ranks; must divide --batch (default: 1)")
    quick = ", ".join(f"--{k.replace('_', '-')} {v[1]}" for k, v in OPTIONS.items()
                      if v[1] is not None)
    add("--quick", action="store_true",
        help=f"a seconds-long run on small sizes (what the tests use): {quick}; options "
             f"given explicitly are kept")
    return parser


def parse(argv=None):
    """Parsed options (an argparse Namespace), each converted and range-checked where its text
    alone says it is bad (OptionError); `preflight.check` does the rest. `quick_changes` lists
    what --quick set, `quick_kept` the options given explicitly that it left alone."""
    args = build_parser().parse_args(argv)
    args.quick_changes, args.quick_kept = [], []
    for key, (default, quick, convert) in OPTIONS.items():
        text = getattr(args, key)
        flag = "--" + key.replace("_", "-")
        if text is None:
            text = default
            if args.quick and quick is not None:
                text = quick
                args.quick_changes.append(f"{flag} {quick}")
        elif args.quick and quick is not None:
            args.quick_kept.append(f"{flag} {text}")
        setattr(args, key, None if text is None else convert(text))
    return args


def every_k(length):
    return max(1, round(math.sqrt(length)))


def revolve_snapshots(length):
    """A few snapshot counts spanning memory-lean to time-lean for this length."""
    counts = sorted({c for c in (4, 8, 32) if c < length})
    return counts or [max(1, length // 2)]

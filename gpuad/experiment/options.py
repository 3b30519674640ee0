"""Command-line options of `python -m gpuad`, checked into one-line errors."""
import argparse
import math

DEFAULT_LENGTHS = (100, 300, 1000)
SCHEDULE_NAMES = ("storeall", "everyk", "revolve", "budget", "online")


class OptionError(ValueError):
    """A bad option value: the message names the option and the accepted form."""


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
    from ..checkpoint.units import parse_bytes
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


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m gpuad",
        description="The BPTT memory experiment: one LSTM training step on the adding problem "
                    "under every checkpointing schedule (time, peak memory, step evaluations, "
                    "and the gradient's difference from storing everything), then a short "
                    "training run with the schedule Budget picks.")
    parser.add_argument("--lengths", default=",".join(map(str, DEFAULT_LENGTHS)),
                        help="sequence lengths T to measure, comma-separated "
                             "(default: %(default)s)")
    parser.add_argument("--schedules", default=",".join(SCHEDULE_NAMES),
                        help="schedules to compare, comma-separated, from "
                             f"{','.join(SCHEDULE_NAMES)}; everyk uses k=sqrt(T), revolve runs "
                             "a few snapshot counts (default: all)")
    parser.add_argument("--hidden", default="32", help="LSTM hidden size (default: 32)")
    parser.add_argument("--batch", default="16", help="sequences per batch (default: 16)")
    parser.add_argument("--backend", default=None, choices=["numpy", "cupy"],
                        help="array backend (default: CuPy if a GPU answers, else NumPy)")
    parser.add_argument("--memory-budget", default=None,
                        help="memory budget for the training run, e.g. 512MB or 2GiB "
                             "(default: 10%% of StoreAll's peak at the largest T)")
    parser.add_argument("--steps", default="500",
                        help="Adam steps of the short training run (default: 500)")
    parser.add_argument("--train-length", default="50",
                        help="sequence length of the training run (default: 50; the adding "
                             "problem at this length is learned in about 20 s on a 2-core CPU, "
                             "at T=1000 it needs far more steps than a demo should take)")
    parser.add_argument("--train-batch", default="32",
                        help="sequences per batch in the training run (default: 32)")
    parser.add_argument("--learning-rate", default="0.02",
                        help="Adam learning rate of the training run (default: 0.02)")
    parser.add_argument("--seed", default="0", help="random seed (default: 0)")
    parser.add_argument("--out", default="gpuad-results",
                        help="output directory for results.json and the plots "
                             "(default: ./gpuad-results/)")
    parser.add_argument("--quick", action="store_true",
                        help="a seconds-long run on small sizes (what the tests use)")
    return parser


def parse(argv=None):
    """Parsed and checked options (an argparse Namespace); OptionError on a bad value."""
    args = build_parser().parse_args(argv)
    args.lengths = parse_lengths(args.lengths)
    args.schedules = parse_schedules(args.schedules)
    args.hidden = positive_int("--hidden")(args.hidden)
    args.batch = positive_int("--batch")(args.batch)
    args.steps = positive_int("--steps")(args.steps)
    try:
        args.seed = int(args.seed)
    except ValueError:
        raise OptionError(f"--seed: got {args.seed!r}; give an integer") from None
    args.train_length = positive_int("--train-length")(args.train_length)
    args.train_batch = positive_int("--train-batch")(args.train_batch)
    try:
        args.learning_rate = float(args.learning_rate)
        if not args.learning_rate > 0:
            raise ValueError
    except ValueError:
        raise OptionError(f"--learning-rate: got {args.learning_rate!r}; give a positive "
                          f"number such as 0.01") from None
    args.memory_budget = parse_budget(args.memory_budget)
    if args.quick:
        args.lengths = [t for t in args.lengths if t <= 40] or [20, 40]
        args.hidden, args.batch, args.steps = min(args.hidden, 16), min(args.batch, 8), \
            min(args.steps, 30)
        args.train_length, args.train_batch = min(args.train_length, 10), \
            min(args.train_batch, 16)
    return args


def every_k(length):
    return max(1, round(math.sqrt(length)))


def revolve_snapshots(length):
    """A few snapshot counts spanning memory-lean to time-lean for this length."""
    counts = sorted({c for c in (4, 8, 32) if c < length})
    return counts or [max(1, length // 2)]

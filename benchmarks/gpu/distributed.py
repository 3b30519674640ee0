"""benchmarks/distributed.py on CuPy arrays over NCCL, for a machine with GPUs: the data-parallel
MLP step (allreduce share of the step) and the sequence-parallel LSTM (time and peak device
memory per rank against one rank), each rank on its own device.

    python benchmarks/gpu/distributed.py [--quick] [--out DIR] [--ranks N] [--dry-run]

`--ranks` defaults to the number of devices, at most 2: NCCL refuses two ranks on one device,
so a one-GPU machine measures one rank over NCCL (the collectives' cost without a peer) and says
so. `--quick`: T = 100, 5 data-parallel steps, microbatches 1 and 4 (about a minute).
`--dry-run` prints the mpiexec command lines and touches no device (what the CPU tests run).
`--out DIR` writes DIR/distributed.json.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import distributed  # noqa: E402  (benchmarks/distributed.py)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None)
    parser.add_argument("--ranks", type=int, default=None)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--batch", type=int, default=4096, help="data-parallel global batch")
    args = parser.parse_args(argv)
    args.length, args.steps, args.microbatches = ((100, 5, [1, 4]) if args.quick
                                                  else (1000, 20, [1, 2, 4, 8]))
    return args


def runs(args, ranks):
    """(what, ranks, batch, steps, extra worker options) of every launch, one place for the
    dry run and the real one."""
    cupy = ["--backend", "cupy"]
    out = [("data_parallel", n, args.batch, args.steps, cupy) for n in sorted({1, ranks})]
    sequence = ["--sequence", "--length", str(args.length)]
    out.append(("sequence", 1, 0, 0, cupy + sequence + ["--microbatches", "1"]))
    if ranks > 1:
        out += [("sequence", ranks, 0, 0, cupy + sequence + ["--microbatches", str(m)])
                for m in args.microbatches]
    return out


def devices():
    import gpuad as ga
    ga.set_backend("cupy")  # raises, saying why, where CuPy or the device cannot run
    import cupy
    return cupy.cuda.runtime.getDeviceCount()


def main(argv=None):
    args = parse_args(argv)
    if args.dry_run:
        for what, n, batch, steps, extra in runs(args, args.ranks or 2):
            print(what, " ".join(distributed.command(n, batch, steps, extra)))
        return 0
    count = devices()
    ranks = args.ranks or min(2, count)
    if ranks > count:
        sys.exit(f"benchmarks/gpu/distributed.py: --ranks {ranks} needs {ranks} GPUs (NCCL "
                 f"refuses two ranks on one device); this machine has {count}")
    if ranks == 1:
        print("one device: one rank over NCCL only (2 ranks need 2 GPUs)")
    results = []
    for what, n, batch, steps, extra in runs(args, ranks):
        result = distributed.launch(n, batch, steps, extra)
        result["what"] = what
        print(json.dumps(result), flush=True)
        results.append(result)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "distributed.json"), "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

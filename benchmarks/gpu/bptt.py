"""benchmarks/bptt.py on CuPy, for a machine with a GPU: the same models and schedules, with
peak bytes from CuPy's allocator (`gpuad.memory.track()` on the cupy backend).

    python benchmarks/gpu/bptt.py [--quick] [--out DIR] [any option of benchmarks/bptt.py]

`--out DIR` writes DIR/bptt.json and DIR/bptt.png; `--quick` is bptt.py's (T=100, hidden 64,
one repeat: about a minute on a GPU, most of it CuPy compiling its kernels on first use).
The peers (PyTorch, JAX) are left out: they run on the host in bptt.py.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import bptt  # noqa: E402

import gpuad  # noqa: E402


def bptt_argv(argv):
    """The arguments for benchmarks/bptt.py: `--out DIR` becomes its `--json` and `--plot`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--out", default=None)
    ours, rest = parser.parse_known_args(argv)
    if ours.out:
        rest += ["--json", os.path.join(ours.out, "bptt.json"),
                 "--plot", os.path.join(ours.out, "bptt.png")]
    return rest + ["--no-peers"]


def main(argv=None):
    argv = bptt_argv(sys.argv[1:] if argv is None else argv)
    args = bptt.parse_args(argv)  # a bad option fails here, before the device is touched
    gpuad.set_backend("cupy")  # raises, saying why, where CuPy or the device cannot run
    for path in (args.json, args.plot):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    bptt.main(argv)


if __name__ == "__main__":
    main()

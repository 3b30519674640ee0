"""Instruction counts per call of small workloads, under valgrind's callgrind: repeatable where
time is not (the project's machines are shared and noisy, +-30%).

Each workload runs in two processes under callgrind, both after the same warm-up calls: one
makes 0 more calls, the other N. The difference of their totals divided by N is the count of
one call, with interpreter start-up, imports and the first calls' compilation cancelled out.
OPENBLAS_NUM_THREADS=1 and PYTHONHASHSEED=0 make the counts repeatable (to ~0.02%), and
NUMBA_NUM_THREADS=1 those of the fused workload.

Workloads:
  overhead       grad of the 100-op chain of benchmarks/overhead.py on 8 elements (per call)
  grad_sum       grad of sum(x) on 10 elements
  helmholtz1     grad of the Helmholtz energy (benchmarks/helmholtz.py) at n = 1
  helmholtz1000  the same at n = 1000
  fused20        value_and_grad of a fused chain on 2^20 elements with a constant array operand
                 (lazy forward values, one backward kernel); use fewer --calls, each is ~3.7e8.
                 A copy of gpuad run for the first time may compile the kernel in one of the two
                 processes (a nonsense, even negative, count): run it again
  index          grad of basic, advanced and sorted (take_along_axis) indexing on 4 x 3
  scan_revolve   grad of a 50-step tanh scan on 4 elements under Revolve(4) (snapshots, restores)
  bptt:MODEL:SCHEDULE:CHECK
                 value_and_grad of benchmarks/bptt.py's MODEL (rnn or lstm; hidden 256, batch 32,
                 input 32, float32) at T=100 under SCHEDULE (e.g. "EveryK(10)", "Revolve(8)")
                 with ga.config.recompute_check = CHECK ("exact" or "off"): the check's cost,
                 free of the machine's noise (benchmarks/recompute_check.py times it); use
                 --calls 3, each call is ~1e8
  scan_jit:MODEL:VARIANT[:T]
                 value_and_grad of benchmarks/bptt.py's MODEL (rnn or lstm; hidden 32, batch 32,
                 input 32, float32) at T=100 (or T) under StoreAll, VARIANT "eager", "jit"
                 (scan(jit=True): one call's recordings, its check and the replays) or "hand"
                 (scan_jit.py's loop written by hand in NumPy, the floor a replay approaches);
                 use --calls 3. The difference of two lengths' counts is the cost per step
                 without the per-call recording

Run: python benchmarks/callgrind.py [workload ...] [--calls 20]
(about a minute per workload: valgrind runs Python some 50x slower)
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def _workload(name):
    """The function of one call of workload `name`, after its warm-up."""
    sys.path.insert(0, HERE)
    import numpy as np

    import gpuad as ga
    import gpuad.numpy as gnp
    if name == "overhead":
        from overhead import chain
        x = np.random.default_rng(0).uniform(-1, 1, 8)
        g = ga.grad(lambda x: chain(gnp, x, 100))
        return lambda: g(x)
    if name == "grad_sum":
        x = np.random.default_rng(0).standard_normal(10)
        g = ga.grad(gnp.sum)
        return lambda: g(x)
    if name.startswith("helmholtz"):
        from helmholtz import helmholtz, problem
        x, b, A = problem(int(name[len("helmholtz"):]))
        g = ga.grad(lambda x: helmholtz(gnp, x, b, A))
        return lambda: g(x)
    if name == "fused20":
        rng = np.random.default_rng(0)
        x, c = rng.uniform(-1, 1, 1 << 20), rng.uniform(0.5, 1.5, 1 << 20)
        g = ga.value_and_grad(lambda x: gnp.sum(gnp.tanh(gnp.sin(x) * c + 0.5) * x))
        return lambda: g(x)
    if name == "index":
        x = np.random.default_rng(0).standard_normal((4, 3))
        g = ga.grad(lambda x: gnp.sum(x[1:3] * x[[0, 2]]) + gnp.sum(gnp.sort(x, axis=0)[0]))
        return lambda: g(x)
    if name == "scan_revolve":
        from gpuad.checkpoint import Revolve, scan
        rng = np.random.default_rng(0)
        W, h0 = rng.standard_normal((4, 4)) * 0.5, rng.standard_normal(4)
        step = lambda h, _: (gnp.tanh(h @ W), None)  # noqa: E731
        g = ga.grad(lambda h: gnp.sum(scan(step, h, length=50, schedule=Revolve(4))[0]))
        return lambda: g(h0)
    if name.startswith("bptt:"):
        from bptt import gpuad_loss

        from gpuad.checkpoint import EveryK, Online, Revolve, StoreAll
        _, model, schedule, check = name.split(":")
        schedule = eval(schedule, {"EveryK": EveryK, "Online": Online, "Revolve": Revolve,
                                   "StoreAll": StoreAll})
        ga.config.recompute_check = check
        loss, params, xs = gpuad_loss(model, 100, 256, 32, 32)
        vg = ga.value_and_grad(loss)
        return lambda: vg(params, xs, schedule)
    if name.startswith("scan_jit:"):
        from bptt import gpuad_loss
        from scan_jit import numpy_value_and_grad

        from gpuad.checkpoint import StoreAll
        _, model, variant, *length = name.split(":")
        loss, params, xs = gpuad_loss(model, int(length[0]) if length else 100, 32, 32, 32)
        if variant == "hand":
            return lambda: numpy_value_and_grad(model, params, xs, 32)
        vg, jit = ga.value_and_grad(loss), {"eager": False, "jit": True}[variant]
        return lambda: vg(params, xs, StoreAll(), None, jit)
    raise SystemExit(f"unknown workload {name!r}; see the module docstring")


def _run(name, calls, warmup=5):
    fn = _workload(name)
    if name.startswith(("bptt:", "scan_jit:")):
        warmup = 1  # no compilation to amortize, and each call is long under valgrind
    for _ in range(warmup + calls):
        fn()


def _total(name, calls):
    out = tempfile.mktemp(prefix="gpuad-callgrind-")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    if name == "fused20":  # Numba's worker threads wait for work a varying while: one thread
        env["NUMBA_NUM_THREADS"] = "1"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
           sys.executable, os.path.abspath(__file__), "--child", name, "--calls", str(calls)]
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    try:
        with open(out) as f:
            text = f.read()
    finally:
        os.remove(out)
    match = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.MULTILINE)
    return int(match.group(1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*",
                        default=["overhead", "grad_sum", "helmholtz1", "helmholtz1000"])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _run(args.child, args.calls)
        return
    print(f"instructions per call (callgrind; difference of 0 and {args.calls} calls)")
    for name in args.workloads:
        base = _total(name, 0)
        more = _total(name, args.calls)
        print(f"{name:>14}  {(more - base) / args.calls / 1e3:10.1f}k")


if __name__ == "__main__":
    main()

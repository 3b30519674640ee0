"""Data-parallel MLP training step on 1 and 2 ranks: step time, throughput, and the share of the
step spent averaging the gradient (bucketed allreduce, target <= 10%).

MLP 256 -> 512 -> 512 -> 10 (tanh), float32, mean squared error, global batch split evenly
between the ranks; one BLAS thread per rank. Each rank count runs under its own
`mpiexec -n N` (this script launches them; `--worker` is what each rank runs). The averaging
time is measured on rank 0 around `gd.data_parallel.average` (packing, the allreduce messages,
unpacking) and around the engine's buffer call; both include waiting for the slower rank to
finish its backward pass. "alone" is the same messages timed after the steps with the ranks
lined up first: the transfer itself.

    python benchmarks/distributed.py [--batch 1024] [--steps 20] [--ranks 1 2] [--json out.json]

`--sequence`: the LSTM of benchmarks/bptt.py (hidden 256, batch 32, input 32, T = 1000,
float32, StoreAll on every rank) on one rank against two ranks sequence-parallel
(`checkpoint.scan(comm=)`) with microbatches 1, 2, 4, 8: seconds per gradient and the peak bytes of a
rank (`gpuad.memory`, in a second, traced run).

    python benchmarks/distributed.py --sequence [--length 1000] [--microbatches 1 2 4 8]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import environment, print_table  # noqa: E402

SIZES = (256, 512, 512, 10)


def init(seed=0):
    rng = np.random.default_rng(seed)
    return [{"w": (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32),
             "b": np.zeros(b, np.float32)} for a, b in zip(SIZES[:-1], SIZES[1:])]


def loss(params, x, y):
    import gpuad.numpy as gnp
    h = x
    for i, layer in enumerate(params):
        h = h @ layer["w"] + layer["b"]
        if i < len(params) - 1:
            h = gnp.tanh(h)
    return gnp.mean((h - y) ** 2)


def use_backend(name, comm):
    """`name`'s arrays on this rank: for CuPy, device `rank % devices` (NCCL needs one device
    per rank), and a `sync()` to call before a clock is read (CuPy's calls return before the
    device has finished)."""
    import gpuad as ga
    ga.set_backend(name)
    if name == "cupy":
        import cupy
        cupy.cuda.Device(comm.rank % cupy.cuda.runtime.getDeviceCount()).use()
    xp = ga.backend.default_namespace()
    return lambda: ga.backend.synchronize(xp)


def worker(batch, steps, backend="numpy"):
    import gpuad as ga
    import gpuad.distributed as gd
    from gpuad.distributed import data_parallel
    comm = gd.world()
    sync = use_backend(backend, comm)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    y = rng.standard_normal((batch, SIZES[-1])).astype(np.float32)
    xs, ys = ga.to_device(gd.shard(x)), ga.to_device(gd.shard(y))
    params = ga.to_device(init())
    step = gd.data_parallel_value_and_grad(loss)

    spent = {"average": 0.0, "allreduce": 0.0, "messages": 0}
    average, engine_allreduce = data_parallel.average, comm.engine.allreduce

    def timed_average(*args):
        t = time.perf_counter()
        out = average(*args)
        spent["average"] += time.perf_counter() - t
        return out

    def timed_allreduce(buf, op):
        t = time.perf_counter()
        out = engine_allreduce(buf, op)
        spent["allreduce"] += time.perf_counter() - t
        spent["messages"] += 1
        return out

    data_parallel.average = timed_average
    comm.engine.allreduce = timed_allreduce
    rows = []
    for i in range(steps + 3):
        spent.update(average=0.0, allreduce=0.0, messages=0)
        comm.engine.allgather_obj(None)  # start each step together
        t = time.perf_counter()
        value, grads = step(params, xs, ys)
        params = [{k: p[k] - 0.01 * grads[j][k] for k in p} for j, p in enumerate(params)]
        sync()
        if i >= 3:  # warm-up steps left out
            rows.append((time.perf_counter() - t, spent["average"], spent["allreduce"],
                         spent["messages"]))
    # the same messages alone, ranks lined up first: the transfer without the wait for the
    # slower rank that the in-step time includes
    leaves = [np.asarray(value)] + [ga.to_numpy(a) for layer in grads for a in layer.values()]
    buffers = [np.concatenate([leaves[i].reshape(-1) for i in bucket])
               for bucket in data_parallel.buckets(leaves, 25 * 2**20)]
    alone = []
    for _ in range(10):
        comm.engine.allgather_obj(None)
        t = time.perf_counter()
        for buf in buffers:
            engine_allreduce(buf, "sum")
        alone.append(time.perf_counter() - t)
    if comm.rank == 0:
        step_s = statistics.median(r[0] for r in rows)
        print("RESULT " + json.dumps({
            "ranks": comm.size, "step_s": step_s,
            "average_s": statistics.median(r[1] for r in rows),
            "allreduce_s": statistics.median(r[2] for r in rows),
            "messages": rows[-1][3], "alone_s": statistics.median(alone),
            "loss": float(value)}), flush=True)


def sequence_worker(length, microbatches, repeats=3, backend="numpy"):
    import gpuad as ga
    import gpuad.distributed as gd
    import gpuad.memory
    import gpuad.numpy as gnp
    from gpuad.checkpoint import StoreAll, scan
    from gpuad.scipy.special import expit
    comm = gd.world()
    sync = use_backend(backend, comm)
    hidden, batch, inputs = 256, 32, 32
    rng = np.random.default_rng(0)
    w = ga.to_device((rng.standard_normal((inputs + hidden, 4 * hidden))
                      / np.sqrt(inputs + hidden)).astype(np.float32))
    xs = ga.to_device(gd.shard(rng.standard_normal((length, batch, inputs)).astype(np.float32)))
    zeros = ga.to_device(np.zeros((batch, hidden), np.float32))

    def step(carry, x, w):
        h, c = carry
        i, f, o, u = gnp.split(gnp.concatenate([x, h], axis=1) @ w, 4, axis=1)
        c = expit(f) * c + expit(i) * gnp.tanh(u)
        h = expit(o) * gnp.tanh(c)
        return (h, c), gnp.mean(h * h, axis=1)

    def loss(w):
        _, ys = scan(lambda c, x: step(c, x, w), (zeros, zeros), xs, schedule=StoreAll(),
                     comm=comm, microbatches=microbatches)
        return gd.allreduce(gnp.sum(ys))

    grad = ga.grad(loss)
    grad(w)
    times = []
    for _ in range(repeats):
        comm.engine.allgather_obj(None)
        t = time.perf_counter()
        grad(w)
        sync()
        times.append(time.perf_counter() - t)
    with gpuad.memory.track() as m:
        grad(w)
    peaks = comm.engine.allgather_obj(m.peak_bytes)
    if comm.rank == 0:
        print("RESULT " + json.dumps({"ranks": comm.size, "microbatches": microbatches,
                                      "seconds": statistics.median(times),
                                      "peak_bytes": max(peaks)}), flush=True)


def command(ranks, batch, steps, extra=()):
    """The mpiexec command line of one run (`extra`: more worker options)."""
    return [shutil.which("mpiexec") or "mpiexec", "-n", str(ranks), sys.executable,
            os.path.abspath(__file__), "--worker", "--batch", str(batch), "--steps", str(steps),
            *extra]


def launch(ranks, batch, steps, extra=()):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    proc = subprocess.run(command(ranks, batch, steps, extra), capture_output=True, text=True,
                          env=env, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"mpiexec -n {ranks} failed:\n{proc.stdout}\n{proc.stderr}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024, help="global batch")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json")
    parser.add_argument("--sequence", action="store_true", help="the sequence-parallel LSTM")
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--microbatches", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="numpy", help=argparse.SUPPRESS)  # gpu/ sets cupy
    args = parser.parse_args()
    if args.worker:
        if args.sequence:
            return sequence_worker(args.length, args.microbatches[0], backend=args.backend)
        return worker(args.batch, args.steps, backend=args.backend)
    if shutil.which("mpiexec") is None:
        sys.exit("benchmarks/distributed.py needs mpiexec: pip install -e '.[distributed]'")
    print(environment())
    if args.sequence:
        return sequence_main(args)
    print(f"MLP {' -> '.join(map(str, SIZES))}, float32, global batch {args.batch}, "
          f"median of {args.steps} steps")
    results = [launch(n, args.batch, args.steps) for n in args.ranks]
    base = results[0]["step_s"]
    rows = [(r["ranks"], f"{r['step_s'] * 1e3:.1f}", f"{args.batch / r['step_s']:.0f}",
             f"{base / r['step_s']:.2f}x", r["messages"], f"{r['allreduce_s'] * 1e3:.2f}",
             f"{r['average_s'] * 1e3:.2f}", f"{100 * r['average_s'] / r['step_s']:.1f}%",
             f"{r['alone_s'] * 1e3:.2f}", f"{100 * r['alone_s'] / r['step_s']:.1f}%")
            for r in results]
    print_table(["ranks", "step ms", "examples/s", "vs 1 rank", "messages", "allreduce ms",
                 "averaging ms", "averaging share", "allreduce alone ms", "alone share"], rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def sequence_main(args):
    print(f"LSTM hidden 256, batch 32, T = {args.length}, float32, StoreAll per rank; median of 3")
    runs = [(1, 1)] + [(2, m) for m in args.microbatches]
    results = [launch(n, 0, 0, ["--sequence", "--length", str(args.length), "--microbatches",
                                str(m)]) for n, m in runs]
    base = results[0]
    rows = [(r["ranks"], r["microbatches"], f"{r['seconds']:.2f}",
             f"{base['seconds'] / r['seconds']:.2f}x", f"{r['peak_bytes'] / 2**20:.1f}",
             f"{r['peak_bytes'] / base['peak_bytes']:.2f}") for r in results]
    print_table(["ranks", "microbatches", "s per gradient", "throughput vs 1 rank",
                 "peak MiB per rank", "peak vs 1 rank"], rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

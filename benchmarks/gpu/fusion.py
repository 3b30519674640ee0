"""benchmarks/fusion.py on CuPy, for a machine with a GPU: the two 8-op chains on 10M elements,
value_and_grad fused (one numba.cuda kernel per group, on CuPy's stream) vs unfused vs
PyTorch eager on CUDA (where it is installed with CUDA), as multiples of CuPy's value time;
backward as a multiple of one device copy of x; peak extra device memory from CuPy's pool
(`gpuad.memory.track("cuda")`).

    python benchmarks/gpu/fusion.py [--size 10000000] [--dtype float32] [--repeats 20]
                                    [--quick] [--out DIR]

`--quick`: 2^20 elements, 5 repeats (well under a minute, most of it compiling the kernels);
`--out DIR` writes DIR/fusion.json and DIR/fusion.png besides printing the tables.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fusion import chains, inputs, median_seconds  # noqa: E402
from timing import environment, optional, print_table  # noqa: E402

import gpuad as ga  # noqa: E402
import gpuad.memory  # noqa: E402
import gpuad.numpy as gnp  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2^20 elements, 5 repeats")
    parser.add_argument("--out", default=None, help="folder for fusion.json and fusion.png")
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.repeats = 2**20, 5
    return args


def main(argv=None):
    args = parse_args(argv)
    ga.set_backend("cupy")  # raises, saying why, where CuPy or the device cannot run
    import cupy as cp
    sync = cp.cuda.get_current_stream().synchronize
    print(environment())
    device = cp.cuda.runtime.getDeviceProperties(0)["name"]
    device = device.decode() if isinstance(device, bytes) else device
    print(f"device: {device}")
    x_host, y_host = inputs(args.size, np.dtype(args.dtype))
    x, y = cp.asarray(x_host), cp.asarray(y_host)
    nbytes = x.nbytes
    torch = optional("torch")
    if torch is not None and not torch.cuda.is_available():
        torch = None
    results = []
    for chain in ("cheap", "transcendental"):
        value = median_seconds(lambda: chains(cp)[chain](x, y), args.repeats, sync)
        copy = median_seconds(lambda: x.copy(), args.repeats, sync)
        rows, backward_rows = [], []
        for fused in (True, False):
            ga.config.fusion = fused
            f = chains(gnp)[chain]
            vg = ga.value_and_grad(f, argnums=(0, 1))
            seconds = median_seconds(lambda: vg(x, y), args.repeats, sync)
            _, vjp_fn = ga.vjp(f, x, y)
            one = cp.ones((), x.dtype)
            back = median_seconds(lambda: vjp_fn(one), args.repeats, sync)
            vjp_fn = None  # free the tape before the memory measurement
            with gpuad.memory.track("cuda") as m:
                vg(x, y)
                sync()
            name = "gpuad fused" if fused else "gpuad unfused"
            rows.append([name, f"{seconds * 1e3:.2f}", f"{seconds / value:.2f}x",
                         f"{m.peak_bytes / nbytes:.1f}x"])
            backward_rows.append([name, f"{back * 1e3:.2f}", f"{back / copy:.1f}x"])
            results.append({"chain": chain, "what": name, "value_and_grad_seconds": seconds,
                            "backward_seconds": back, "peak_bytes": m.peak_bytes,
                            "cupy_value_seconds": value, "copy_seconds": copy})
        ga.config.fusion = True
        if torch is not None:
            ft = chains(torch)[chain]
            xt = torch.as_tensor(x_host, device="cuda")
            yt = torch.as_tensor(y_host, device="cuda")

            def run():
                a, b = xt.detach().requires_grad_(), yt.detach().requires_grad_()
                out = ft(a, b)
                return torch.autograd.grad(out, (a, b))
            seconds = median_seconds(run, args.repeats, torch.cuda.synchronize)
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            run()
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - base
            rows.append(["PyTorch eager (CUDA)", f"{seconds * 1e3:.2f}",
                         f"{seconds / value:.2f}x", f"{peak / nbytes:.1f}x"])
            results.append({"chain": chain, "what": "PyTorch eager (CUDA)",
                            "value_and_grad_seconds": seconds, "peak_bytes": peak,
                            "cupy_value_seconds": value, "copy_seconds": copy})
        print(f"\n{chain} chain, {args.size:,} {args.dtype} on the GPU: CuPy value "
              f"{value * 1e3:.2f} ms, copy of x {copy * 1e3:.2f} ms")
        print_table(["value_and_grad", "ms", "/ CuPy value", "peak extra / size(x)"], rows)
        print_table(["backward", "ms", "/ copy of x"], backward_rows)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "fusion.json"), "w") as f:
            json.dump({"environment": environment(), "device": device, "size": args.size,
                       "dtype": args.dtype, "repeats": args.repeats, "results": results}, f,
                      indent=1)
        plot(os.path.join(args.out, "fusion.png"), results, args, device)


def plot(path, results, args, device):
    """value_and_grad of each chain as a multiple of CuPy's value time, one bar per variant."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    chains_ = sorted({r["chain"] for r in results})
    names = list(dict.fromkeys(r["what"] for r in results))
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        ys = [next((r["value_and_grad_seconds"] / r["cupy_value_seconds"] for r in results
                    if r["chain"] == c and r["what"] == name), 0.0) for c in chains_]
        ax.bar([i + k * width for i in range(len(chains_))], ys, width, label=name)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(chains_))], chains_)
    ax.set_ylabel("value_and_grad / CuPy value time")
    ax.set_title(f"{args.size:,} {args.dtype} on {device}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()

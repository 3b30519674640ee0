"""BPTT under every checkpointing schedule: time, peak memory, step evaluations, exactness.

Tanh RNN and LSTM, hidden 256, batch 32, input 32, T=1000, float32, loss on all steps
(issue "Checkpointing"). For each schedule: median seconds of value_and_grad, peak bytes
(`gpuad.memory`, a separate run since tracing slows the allocator), step evaluations, the
gradient's max difference from StoreAll, and the time the plan predicts from StoreAll's
per-step costs (target: measured within 10% of it). Peers in the same run: PyTorch's
`torch.utils.checkpoint` over 32 segments and `jax.checkpoint` on each step of a `lax.scan`
(jitted). Peer memory cannot be seen by tracemalloc, so every library's *process* peak
(resident set growth, each configuration in a fresh subprocess) is reported side by side too.

    python benchmarks/bptt.py [--length 1000] [--hidden 256] [--quick] [--json out.json]
                              [--plot out.png]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import compare, environment, optional, print_table, reset_peak_rss, rss_bytes  # noqa: E402


def gpuad_loss(model, length, hidden, batch, inputs, seed=0, xp=np):
    """(loss(params, xs, schedule, counter), params, xs) for one model, float32."""
    import gpuad.numpy as gnp
    from gpuad.checkpoint import scan
    from gpuad.scipy.special import expit
    rng = np.random.default_rng(seed)
    gates = 4 if model == "lstm" else 1
    params = {"w": (rng.standard_normal((inputs + hidden, gates * hidden))
                    / np.sqrt(inputs + hidden)).astype(np.float32),
              "b": np.zeros(gates * hidden, np.float32)}
    xs = rng.standard_normal((length, batch, inputs)).astype(np.float32)
    if xp is not np:  # benchmarks/gpu/bptt.py: the same on the device
        params, xs = {k: xp.asarray(v) for k, v in params.items()}, xp.asarray(xs)

    def make_step(w, b, counter=None):
        def step(carry, x):
            if counter is not None:
                counter[0] += 1
            if model == "rnn":
                h = gnp.tanh(gnp.concatenate([x, carry], axis=1) @ w + b)
                return h, gnp.mean(h * h)
            h, c = carry
            i, f, o, u = gnp.split(gnp.concatenate([x, h], axis=1) @ w + b, 4, axis=1)
            c = expit(f) * c + expit(i) * gnp.tanh(u)
            h = expit(o) * gnp.tanh(c)
            return (h, c), gnp.mean(h * h)
        return step

    def initial():
        zeros = xp.zeros((batch, hidden), np.float32)
        return zeros if model == "rnn" else (zeros, zeros)

    def loss(params, xs, schedule, counter=None, jit=False):
        step = make_step(params["w"], params["b"], counter)
        _, ys = scan(step, initial(), xs, schedule=schedule, jit=jit)
        return gnp.sum(ys)

    def forecast_of(params, xs, schedule):
        """`forecast` of the scan inside `loss`, the weights as its parameters."""
        from gpuad.checkpoint import forecast
        return forecast(make_step(params["w"], params["b"]), initial(), xs,
                        schedule=schedule, params=(params["w"], params["b"]))

    loss.forecast = forecast_of
    return loss, params, xs


def schedules(quick):
    from gpuad.checkpoint import EveryK, Online, Revolve, StoreAll
    rows = [("StoreAll", StoreAll()), ("EveryK(1)", EveryK(1))]
    rows += [(f"EveryK({k})", EveryK(k)) for k in ((32,) if quick else (8, 16, 32, 48, 64))]
    rows += [(f"Revolve({s})", Revolve(s)) for s in ((8, 32) if quick else (8, 16, 32, 64, 128))]
    rows += [("Online(32)", Online(32))]
    return rows


def measure_gpuad(model, args):
    import gpuad as ga
    import gpuad.memory
    from gpuad.checkpoint import Budget, StoreAll
    xp = ga.backend.default_namespace()
    loss, params, xs = gpuad_loss(model, args.length, args.hidden, args.batch, args.inputs,
                                  xp=xp)
    vg = ga.value_and_grad(loss)

    def timed(schedule, repeats):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = vg(params, xs, schedule)
            ga.backend.synchronize(xp)
            times.append(time.perf_counter() - t0)
        return statistics.median(times), out

    # per-step costs: a plain forward (no tape) and StoreAll's taped forward + backward; the
    # plain forward's median over as many runs as the schedules get (one run read 120-217 us
    # per step on the same noisy machine)
    plain = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        loss(params, xs, None)
        ga.backend.synchronize(xp)
        plain.append(time.perf_counter() - t0)
    advance = statistics.median(plain) / args.length
    with gpuad.memory.track() as m:
        vg(params, xs, StoreAll())
    base_peak = m.peak_bytes
    configs = schedules(args.quick) + [
        ("Budget(5%)", Budget(max(1, int(0.05 * base_peak)))),
        ("Budget(10%)", Budget(max(1, int(0.10 * base_peak))))]
    rows, reference, base_time = [], None, None
    for label, schedule in configs:
        try:
            vg(params, xs, schedule)  # warm-up
        except ValueError as exc:  # a Budget below one step's needs says so; report it
            print(f"  {model} {label}: {exc}", file=sys.stderr)
            continue
        seconds, (value, grads) = timed(schedule, args.repeats)
        counter = [0]
        ga.value_and_grad(lambda p: loss(p, xs, schedule, counter))(params)
        with gpuad.memory.track() as m:
            vg(params, xs, schedule)
        if reference is None:
            reference, base_time = grads, seconds
        diff = max(float(np.max(np.abs(ga.to_numpy(g) - ga.to_numpy(r)))) for g, r in
                   zip(ga.tree_leaves(grads), ga.tree_leaves(reference)))
        chooses = isinstance(schedule, Budget)
        plan = schedule.chosen.plan(args.length) if chooses else schedule.plan(args.length)
        predicted = base_time + plan.forward_steps * advance
        # the dry run's own prediction (issue 17: within 25% of the measured slowdown)
        forecast_slowdown = loss.forecast(params, xs, schedule).slowdown
        rows.append({"model": model, "schedule": f"{label} -> {schedule.chosen!r}" if chooses
                     else label, "budget_bytes": schedule.budget if chooses else None,
                     "seconds": seconds, "vs_storeall": seconds / base_time,
                     "predicted_seconds": predicted, "vs_predicted": seconds / predicted,
                     "forecast_slowdown": forecast_slowdown,
                     "peak_bytes": m.peak_bytes, "memory_saved": 1 - m.peak_bytes / base_peak,
                     "step_evaluations": counter[0], "grad_max_diff": diff})
        rows[-1]["schedule_object"] = schedule
        print(f"  {model} {rows[-1]['schedule']}: {seconds:.2f} s", file=sys.stderr)
    # each Budget against the fastest fixed schedule that fits its budget, timed again side
    # by side (alternating calls): the blocks above run minutes apart on a shared machine,
    # whose speed drifts by more than the difference asked about (issue 17)
    for row in rows:
        if row["budget_bytes"] is None:
            continue
        best = fastest_fixed_that_fits(rows, row)
        if best is None:
            continue
        duel = compare({k: (lambda s=r["schedule_object"]: vg(params, xs, s))
                        for k, r in (("budget", row), ("fixed", best))},
                       min_time=0, rounds=max(5, 2 * args.repeats), warmup=0)
        row.update(side_by_side_fixed=best["schedule"], side_by_side_budget_s=duel["budget"],
                   side_by_side_fixed_s=duel["fixed"])
    for row in rows:
        del row["schedule_object"]
    return rows


def fastest_fixed_that_fits(rows, budget_row):
    fits = [f for f in rows if f["model"] == budget_row["model"]
            and f.get("budget_bytes") is None and f["peak_bytes"] <= budget_row["budget_bytes"]]
    return min(fits, key=lambda f: f["seconds"], default=None)


# ---- peers and process-level memory (each run in a fresh subprocess) ---------------------------

def child(kind, model, args):
    """Run one configuration and print {"seconds", "process_peak_bytes"} as JSON."""
    if kind.startswith("gpuad:"):
        import gpuad as ga
        from gpuad.checkpoint import EveryK, Revolve, StoreAll
        loss, params, xs = gpuad_loss(model, args.length, args.hidden, args.batch, args.inputs)
        schedule = eval(kind.split(":", 1)[1], {"EveryK": EveryK, "Revolve": Revolve,
                                                 "StoreAll": StoreAll})
        run = lambda: ga.value_and_grad(loss)(params, xs, schedule)  # noqa: E731
    elif kind == "torch":
        small = argparse.Namespace(**{**vars(args), "length": 2})
        _torch_run(model, small)()  # PyTorch initializes itself lazily: not our peak
        run = _torch_run(model, args)
    elif kind == "jax":
        run = _jax_run(model, args)
    # the first run measures memory: after it, freed memory stays in the allocator's pools
    # and later runs would not grow the resident set
    reset_peak_rss()
    base = rss_bytes()
    run()
    peak = rss_bytes() - base
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": statistics.median(times), "process_peak_bytes": peak}))


def _torch_run(model, args):
    import torch
    from torch.utils.checkpoint import checkpoint
    torch.manual_seed(0)
    gates = 4 if model == "lstm" else 1
    w = (torch.randn(args.inputs + args.hidden, gates * args.hidden)
         / (args.inputs + args.hidden) ** 0.5).requires_grad_()
    b = torch.zeros(gates * args.hidden, requires_grad=True)
    xs = torch.randn(args.length, args.batch, args.inputs)
    seg = max(1, args.length // 32)

    def segment(start, *carry):
        total = torch.zeros(())
        for t in range(start, min(start + seg, args.length)):
            if model == "rnn":
                h = torch.tanh(torch.cat([xs[t], carry[0]], 1) @ w + b)
                carry = (h,)
            else:
                h, c = carry
                i, f, o, u = (torch.cat([xs[t], h], 1) @ w + b).chunk(4, 1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(u)
                h = torch.sigmoid(o) * torch.tanh(c)
                carry = (h, c)
            total = total + (carry[0] ** 2).mean()
        return (total,) + tuple(carry)

    def run():
        zeros = torch.zeros(args.batch, args.hidden)
        carry = (zeros,) if model == "rnn" else (zeros, zeros)
        loss = torch.zeros(())
        for start in range(0, args.length, seg):
            out = checkpoint(segment, start, *carry, use_reentrant=False)
            loss, carry = loss + out[0], out[1:]
        w.grad = b.grad = None
        loss.backward()
    return run


def _jax_run(model, args):
    import jax
    import jax.numpy as jnp
    gates = 4 if model == "lstm" else 1
    rng = np.random.default_rng(0)
    w = jnp.asarray((rng.standard_normal((args.inputs + args.hidden, gates * args.hidden))
                     / np.sqrt(args.inputs + args.hidden)).astype(np.float32))
    b = jnp.zeros(gates * args.hidden, jnp.float32)
    xs = jnp.asarray(rng.standard_normal((args.length, args.batch, args.inputs))
                     .astype(np.float32))

    def loss(params):
        w, b = params

        @jax.checkpoint
        def step(carry, x):
            if model == "rnn":
                h = jnp.tanh(jnp.concatenate([x, carry], 1) @ w + b)
                return h, jnp.mean(h * h)
            h, c = carry
            i, f, o, u = jnp.split(jnp.concatenate([x, h], 1) @ w + b, 4, 1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(u)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), jnp.mean(h * h)
        zeros = jnp.zeros((args.batch, args.hidden), jnp.float32)
        _, ys = jax.lax.scan(step, zeros if model == "rnn" else (zeros, zeros), xs)
        return jnp.sum(ys)
    compiled = jax.jit(jax.value_and_grad(loss)).lower((w, b)).compile()  # not timed
    return lambda: jax.block_until_ready(compiled((w, b)))


def in_subprocess(kind, model, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, "--model", model,
           "--length", str(args.length), "--hidden", str(args.hidden), "--batch",
           str(args.batch), "--inputs", str(args.inputs), "--repeats", str(args.repeats)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def peers(model, args):
    kinds = ["gpuad:StoreAll()", "gpuad:EveryK(32)", "gpuad:Revolve(32)", "gpuad:EveryK(1)"]
    if optional("torch") is not None:
        kinds.append("torch")
    if optional("jax") is not None:
        kinds.append("jax")
    rows = []
    for kind in kinds:
        result = in_subprocess(kind, model, args)
        if result is not None:
            label = {"torch": "torch.utils.checkpoint, 32 segments",
                     "jax": "jax.checkpoint per step in lax.scan (jit)"}.get(kind, kind)
            rows.append({"model": model, "what": label, **result})
            print(f"  {model} {label}: {result['seconds']:.2f} s", file=sys.stderr)
    return rows


def plot(path, rows, length):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for model, marker in (("rnn", "o"), ("lstm", "s")):
        for r in rows:
            if r["model"] == model:
                x, y = 100 * r["memory_saved"], 100 * (r["vs_storeall"] - 1)
                ax.scatter(x, y, marker=marker, color="C0" if model == "rnn" else "C1")
                ax.annotate(r["schedule"].split(" ->")[0], (x, y), fontsize=6,
                            textcoords="offset points", xytext=(3, 3))
    ax.axhline(70, color="grey", linestyle=":", linewidth=1)
    ax.axvline(95, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("activation memory saved vs StoreAll (%)")
    ax.set_ylabel("time overhead vs StoreAll (%)")
    ax.set_title(f"BPTT, T={length}: tanh RNN (circles) and LSTM (squares)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--inputs", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="rnn,lstm")
    parser.add_argument("--quick", action="store_true", help="T=100, hidden 64, 1 repeat")
    parser.add_argument("--no-peers", action="store_true",
                        help="gpuad only (no PyTorch/JAX subprocess runs)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--plot", default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model", default="lstm", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.length, args.hidden, args.repeats = 100, 64, 1
    return args


def against_fixed(rows):
    """Rows comparing each Budget with the fastest fixed schedule under the same budget."""
    out = []
    for r in rows:
        if r.get("budget_bytes") is None:
            continue
        best = fastest_fixed_that_fits(rows, r)
        duel = (f"{r['side_by_side_budget_s']:.2f} vs {r['side_by_side_fixed_s']:.2f} "
                f"({r['side_by_side_budget_s'] / r['side_by_side_fixed_s']:.2f}x)"
                if "side_by_side_fixed_s" in r else "")
        out.append([r["model"], f"{r['budget_bytes'] / 2**20:.1f} MiB",
                    r["schedule"].split(" -> ", 1)[1], f"{r['seconds']:.2f}",
                    f"{r['peak_bytes'] / 2**20:.1f}", r["step_evaluations"],
                    best["schedule"] if best else "none fits",
                    f"{best['seconds']:.2f}" if best else "",
                    f"{best['peak_bytes'] / 2**20:.1f}" if best else "",
                    best["step_evaluations"] if best else "", duel])
    return out


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return child(args.child, args.model, args)
    print(environment())
    print(f"T={args.length}, hidden {args.hidden}, batch {args.batch}, input {args.inputs}, "
          f"float32, loss on all steps; medians of {args.repeats} runs")
    rows, peer_rows = [], []
    for model in args.models.split(","):
        rows += measure_gpuad(model, args)
        if not args.no_peers:
            peer_rows += peers(model, args)
    print_table(["model", "schedule", "time (s)", "vs StoreAll", "vs plan's prediction",
                 "forecast's slowdown", "peak (MiB)", "saved", "step evals", "max |grad diff|"],
                [[r["model"], r["schedule"], f"{r['seconds']:.2f}", f"{r['vs_storeall']:.2f}x",
                  f"{r['vs_predicted']:.2f}",
                  f"{r['forecast_slowdown']:.2f}x ({r['vs_storeall'] / r['forecast_slowdown']:.2f})",
                  f"{r['peak_bytes'] / 2**20:.1f}",
                  f"{100 * r['memory_saved']:.1f}%", r["step_evaluations"],
                  f"{r['grad_max_diff']:.1e}"] for r in rows])
    budget_rows = against_fixed(rows)
    if budget_rows:
        print("\nBudget against the fastest fixed schedule whose measured peak fits the same "
              "budget (same run):")
        print_table(["model", "budget", "Budget's plan", "time (s)", "peak (MiB)", "evals",
                     "fastest fixed that fits", "time (s)", "peak (MiB)", "evals",
                     "side by side: Budget vs fixed (s)"], budget_rows)
    if peer_rows:
        print("\nprocess peak memory (resident set growth during value_and_grad, fresh "
              "process each):")
        print_table(["model", "what", "time (s)", "process peak (MiB)"],
                    [[r["model"], r["what"], f"{r['seconds']:.2f}",
                      f"{r['process_peak_bytes'] / 2**20:.1f}"] for r in peer_rows])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": environment(), "gpuad": rows, "process": peer_rows}, f,
                      indent=1)
    if args.plot:
        plot(args.plot, rows, args.length)


if __name__ == "__main__":
    main()

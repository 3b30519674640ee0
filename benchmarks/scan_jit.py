"""scan(step, ..., jit=True) against eager steps: bptt.py's tanh RNN and LSTM, small hidden
sizes, T=1000, batch 32, input 32, float32, value_and_grad of the loss on all steps.

For each (model, hidden, schedule): medians of eager and jit=True measured side by side in one
run (interleaved batches, timing.compare), their ratio, and, for StoreAll, the same forward and
backward loop written by hand in NumPy (forward values saved, no tape): the floor a replay can
approach (issue 19: StoreAll within 1.15x of it; small steps >= 3x faster than eager). Each
jit result is checked bit for bit against eager, and the hand loop's gradient against both.

With --while: `while_loop(cond, body, init, jit=True)` against the eager while_loop on the
tanh RNN step, for --trips trips (200): the carry holds h, an array trip counter k (cond is
`k < trips`) and the running loss; the body reads its input as `gnp.take(xs, k, axis=0)`.
StoreAll and Online(8), each jit result checked bit for bit against eager.

Run: python benchmarks/scan_jit.py [--length 1000] [--hidden 16 32 64] [--min-time 1.0]
     python benchmarks/scan_jit.py --while [--trips 200] [--hidden 16 32 64]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bptt import gpuad_loss  # noqa: E402
from timing import compare, environment, print_table  # noqa: E402


def _sigmoid(z):
    from gpuad.scipy.special import expit  # the same implementation as the traced loss
    return expit(z)


def numpy_value_and_grad(model, params, xs, hidden):
    """The loss sum_t mean(h_t ** 2) and its gradient in (w, b), written by hand."""
    w, b = params["w"], params["b"]
    length, batch, inputs = xs.shape
    h = np.zeros((batch, hidden), np.float32)
    c = np.zeros_like(h)
    saved = []
    total = np.float32(0)
    for t in range(length):
        cat = np.concatenate([xs[t], h], axis=1)
        z = cat @ w + b
        if model == "rnn":
            h = np.tanh(z)
            saved.append((cat, h))
        else:
            i, f, o, u = np.split(z, 4, axis=1)
            si, sf, so, tu = _sigmoid(i), _sigmoid(f), _sigmoid(o), np.tanh(u)
            c_prev, c = c, sf * c + si * tu
            tc = np.tanh(c)
            h = so * tc
            saved.append((cat, si, sf, so, tu, c_prev, tc))
        total = total + np.mean(h * h)
    scale = np.float32(2.0 / h.size)
    gw, gb = np.zeros_like(w), np.zeros_like(b)
    dh_next = np.zeros_like(h)
    dc_next = np.zeros_like(h)
    for t in range(length - 1, -1, -1):
        if model == "rnn":
            cat, h = saved[t]
            dz = (dh_next + scale * h) * (1 - h * h)
        else:
            cat, si, sf, so, tu, c_prev, tc = saved[t]
            h = so * tc
            dh = dh_next + scale * h
            dc = dc_next + dh * so * (1 - tc * tc)
            dz = np.concatenate([dc * tu * si * (1 - si), dc * c_prev * sf * (1 - sf),
                                 dh * tc * so * (1 - so), dc * si * (1 - tu * tu)], axis=1)
            dc_next = dc * sf
        gw += cat.T @ dz
        gb += dz.sum(axis=0)
        dh_next = (dz @ w.T)[:, inputs:]
    return total, {"w": gw, "b": gb}


def eager_and_jit(grad, params, xs, schedules):
    """{(schedule name, "eager" or "jit"): a call of grad with that schedule}, each jit call's
    result checked bit for bit against the eager one's."""
    import gpuad as ga
    fns = {}
    for name, schedule in schedules:
        def eager(schedule=schedule):
            return grad(params, xs, schedule)

        def jitted(schedule=schedule):
            return grad(params, xs, schedule, None, True)
        for a, b in zip(ga.tree_leaves(eager()), ga.tree_leaves(jitted())):
            np.testing.assert_array_equal(a, b)  # bit for bit
        fns[name, "eager"], fns[name, "jit"] = eager, jitted
    return fns


def while_loss(trips, hidden, batch, inputs, seed=0):
    """(loss(params, xs, schedule, counter, jit), params, xs): bptt.py's tanh RNN as a
    while_loop (counter unused)."""
    import gpuad.numpy as gnp
    from gpuad.checkpoint import while_loop
    _, params, xs = gpuad_loss("rnn", trips, hidden, batch, inputs, seed)

    def loss(params, xs, schedule, counter=None, jit=False):  # (bptt.py's loss's arguments)
        w, b = params["w"], params["b"]

        def body(carry):
            h, k, total = carry
            h = gnp.tanh(gnp.concatenate([gnp.take(xs, k, axis=0), h], axis=1) @ w + b)
            return h, k + 1, total + gnp.mean(h * h)
        init = (np.zeros((batch, hidden), np.float32), np.asarray(0), np.zeros((), np.float32))
        return while_loop(lambda c: c[1] < trips, body, init, schedule=schedule, jit=jit)[2]
    return loss, params, xs


def main_while(args):
    import gpuad as ga
    from gpuad.checkpoint import Online, StoreAll
    print(environment())
    print(f"while_loop, tanh RNN, {args.trips} trips, batch {args.batch}, input {args.inputs}, "
          f"float32; value_and_grad of sum_t mean(h_t^2); medians of interleaved batches")
    rows = []
    for hidden in args.hidden:
        loss, params, xs = while_loss(args.trips, hidden, args.batch, args.inputs)
        fns = eager_and_jit(ga.value_and_grad(loss), params, xs,
                            (("StoreAll", StoreAll()), ("Online(8)", Online(8))))
        times = compare(fns, args.min_time)
        for name in ("StoreAll", "Online(8)"):
            e, j = times[name, "eager"], times[name, "jit"]
            rows.append(["rnn", hidden, name, f"{e * 1e3:.1f} ms", f"{j * 1e3:.1f} ms",
                         f"{e / j:.2f}x"])
        print_table(["model", "hidden", "schedule", "eager", "jit=True", "speedup"], rows[-2:])
    print()
    print_table(["model", "hidden", "schedule", "eager", "jit=True", "speedup"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--hidden", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--inputs", type=int, default=32)
    parser.add_argument("--models", nargs="+", default=["rnn", "lstm"])
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per variant")
    parser.add_argument("--while", dest="while_loop", action="store_true",
                        help="while_loop(jit=True) against the eager while_loop instead")
    parser.add_argument("--trips", type=int, default=200, help="with --while")
    args = parser.parse_args(argv)
    if args.while_loop:
        return main_while(args)

    import gpuad as ga
    from gpuad.checkpoint import Revolve, StoreAll
    print(environment())
    print(f"T={args.length}, batch {args.batch}, input {args.inputs}, float32; value_and_grad "
          f"of sum_t mean(h_t^2); medians of interleaved batches")
    rows = []
    for model in args.models:
        for hidden in args.hidden:
            loss, params, xs = gpuad_loss(model, args.length, hidden, args.batch, args.inputs)
            fns = eager_and_jit(ga.value_and_grad(loss), params, xs,
                                (("StoreAll", StoreAll()), ("Revolve(8)", Revolve(8))))
            value, g = numpy_value_and_grad(model, params, xs, hidden)
            ref_value, ref_g = fns["StoreAll", "jit"]()
            np.testing.assert_allclose(value, ref_value, rtol=1e-4)
            for k in g:
                np.testing.assert_allclose(g[k], ref_g[k], rtol=2e-3, atol=1e-4)
            fns["numpy"] = lambda: numpy_value_and_grad(model, params, xs, hidden)
            times = compare(fns, args.min_time)
            for name in ("StoreAll", "Revolve(8)"):
                e, j = times[name, "eager"], times[name, "jit"]
                floor = times["numpy"] if name == "StoreAll" else None
                rows.append([model, hidden, name, f"{e * 1e3:.1f} ms", f"{j * 1e3:.1f} ms",
                             f"{e / j:.2f}x",
                             f"{floor * 1e3:.1f} ms" if floor else "",
                             f"{j / floor:.2f}x" if floor else ""])
            print_table(["model", "hidden", "schedule", "eager", "jit=True", "speedup",
                         "NumPy by hand", "jit / hand"], rows[-2:])
    print()
    print_table(["model", "hidden", "schedule", "eager", "jit=True", "speedup",
                 "NumPy by hand", "jit / hand"], rows)


if __name__ == "__main__":
    main()

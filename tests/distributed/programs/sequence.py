"""Sequence-parallel RNN and LSTM gradients on N ranks equal single-process StoreAll's (1e-12,
float64) under each schedule per rank and microbatches 1, 2, 4, with the weights closed over
and passed as xs (tests/distributed/test_sequence.py). T = 11: uneven chunks on 2 and 3 ranks.
The distributed side calls the issue's API, `gpuad.checkpoint.scan(..., comm=, microbatches=)`,
which runs `gd.sequence.scan`."""
import sys

import numpy as np

import gpuad as ga
import gpuad.distributed as gd
import gpuad.numpy as gnp
from gpuad.checkpoint import Budget, Online, Revolve, StoreAll, scan
from gpuad.scipy.special import expit

T, B, I, H = 11, 4, 3, 5
SCHEDULES = {"StoreAll": StoreAll(), "Revolve": Revolve(2), "Budget": Budget("60KB"),
             "Online": Online(2)}


def model(kind, rng):
    gates = 4 if kind == "lstm" else 1
    w = rng.normal(size=(I + H, gates * H)) / 3

    def step(carry, x, w):
        h, c = carry
        z = gnp.concatenate([x, h], axis=1) @ w
        if kind == "rnn":
            h = gnp.tanh(z)
            return (h, c + 0.5 * h), gnp.sum(h * h, axis=1)
        i, f, o, u = gnp.split(z, 4, axis=1)
        c = expit(f) * c + expit(i) * gnp.tanh(u)
        h = expit(o) * gnp.tanh(c)
        return (h, c), gnp.sum(h * h, axis=1)
    return w, step


def losses(kind, closed, xs, h0, step):
    """(single-process loss, distributed loss) of (w, schedule, m); `closed`: the weights are
    closed over, else passed as xs (a copy per time step)."""
    def run(w, local_xs, do_scan):
        if closed:
            return do_scan(lambda c, x: step(c, x, w), local_xs, None)
        ws = gnp.broadcast_to(w, (local_xs.shape[0],) + w.shape)
        return do_scan(lambda c, xw: step(c, xw[0], xw[1]), (local_xs, ws), (True, False))

    def full(w):
        (h, c), ys = run(w, xs, lambda f, x, _: scan(f, (h0, 0.5 * h0), x, schedule=StoreAll()))
        return gnp.sum(ys) + gnp.sum(h * c)

    def dist(w, schedule, m):
        def do_scan(f, x, batched):
            return scan(f, (h0, 0.5 * h0), x, schedule=schedule, comm=gd.world(),
                        microbatches=m, xs_batched=batched)
        (h, c), ys = run(w, gd.shard(xs), do_scan)
        return gd.allreduce(gnp.sum(ys)) + gnp.sum(h * c)
    return full, dist


def check(kind, closed, schedules, microbatches, modes):
    def run(comm):
        rng = np.random.default_rng(0)
        w, step = model(kind, rng)
        xs, h0, v = rng.normal(size=(T, B, I)), rng.normal(size=(B, H)) * 0.1, \
            rng.normal(size=w.shape)
        full, dist = losses(kind, closed, xs, h0, step)
        ref = {"grad": ga.grad(full)(w), "jvp": ga.jvp(full, (w,), (v,))[1],
               "hvp": ga.hvp(full, (w,), (v,))}
        for name in schedules:
            for m in microbatches:
                f = lambda w: dist(w, SCHEDULES[name], m)  # noqa: E731
                got = {"grad": lambda: gd.allreduce(ga.grad(f)(w), "mean"),
                       "jvp": lambda: ga.jvp(f, (w,), (v,))[1],
                       "hvp": lambda: gd.allreduce(ga.hvp(f, (w,), (v,)), "mean")}
                for mode in modes:
                    a = got[mode]()
                    err = np.max(np.abs(a - ref[mode]))
                    assert err <= 1e-12 * max(1.0, np.max(np.abs(ref[mode]))), \
                        f"{name}, microbatches={m}, {mode}: max difference {err:.3e}"
    return run


def checks(comm, wanted=()):
    """(name, check(comm)) pairs; `wanted`: the names to keep (all when empty)."""
    every = list(SCHEDULES)
    out = [
        ("lstm_closed_grad", check("lstm", True, every, (1, 2, 4), ("grad",))),
        ("rnn_xs_grad", check("rnn", False, every, (1, 2, 4), ("grad",))),
        ("lstm_closed_jvp_hvp", check("lstm", True, ["Revolve", "Online"], (1, 4),
                                      ("jvp", "hvp"))),
        ("rnn_xs_jvp_hvp", check("rnn", False, ["StoreAll", "Budget"], (2,), ("jvp", "hvp"))),
    ]
    return [c for c in out if not wanted or c[0] in wanted]


def main():
    from report import run_checks  # (beside this file: the programs run as scripts)
    run_checks(checks(gd.world(), sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())

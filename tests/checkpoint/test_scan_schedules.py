"""Every schedule gives StoreAll's gradient on a tanh RNN and an LSTM; memory and tiers hold."""
import glob
import os
import tempfile

import numpy as np
import pytest

import gpuad as ga
import gpuad.memory
import gpuad.numpy as gnp
from gpuad.checkpoint import (
    Budget,
    EveryK,
    Online,
    Revolve,
    StoreAll,
    Tiered,
    forecast,
    scan,
    while_loop,
)
from gpuad.scipy.special import expit
from gpuad.tree import tree_flatten

HIDDEN, BATCH, INPUT = 4, 2, 3


def params(seed):
    rng = np.random.default_rng(seed)
    return {"rnn": (rng.standard_normal((HIDDEN, HIDDEN)) * 0.5,
                    rng.standard_normal((INPUT, HIDDEN)) * 0.5),
            "lstm": (rng.standard_normal((HIDDEN + INPUT, 4 * HIDDEN)) * 0.4,
                     rng.standard_normal(4 * HIDDEN) * 0.1)}


def rnn_step(p, via_xs):
    def step(h, x):
        if via_xs:
            (W, U), x = x["w"], x["x"]
        else:
            W, U = p
        h = gnp.tanh(h @ W + x @ U)
        return h, gnp.mean(h ** 2)
    return step


def lstm_step(p, via_xs):
    def step(carry, x):
        h, c = carry
        if via_xs:
            (W, b), x = x["w"], x["x"]
        else:
            W, b = p
        z = gnp.concatenate([h, x], axis=1) @ W + b
        i, f, o, u = gnp.split(z, 4, axis=1)
        c = expit(f) * c + expit(i) * gnp.tanh(u)
        h = expit(o) * gnp.tanh(c)
        return (h, c), gnp.mean(h ** 2)
    return step


def loss(model, p, xs, schedule, via_xs=False):
    """Loss on all steps; parameters closed over, or passed per step through xs."""
    h0 = np.zeros((BATCH, HIDDEN))
    init = h0 if model == "rnn" else (h0, h0 + 0.1)
    make = rnn_step if model == "rnn" else lstm_step
    seq = {"x": xs, "w": tuple(gnp.broadcast_to(w, (len(xs),) + w.shape) for w in p)} \
        if via_xs else xs
    carry, ys = scan(make(p, via_xs), init, seq, schedule=schedule)
    last = carry if model == "rnn" else carry[0]
    return gnp.sum(ys) + gnp.sum(last)


SHORT = [StoreAll(), EveryK(1), EveryK(4), Revolve(1), Revolve(2), Revolve(5), Online(1),
         Online(2), Online(6), Budget("200KB"), Tiered(200, None)]
LONG = [EveryK(31), Revolve(8), Revolve(40), Online(8), Budget("1.5MB"), Tiered(2000, None)]


@pytest.mark.parametrize("model", ["rnn", "lstm"])
@pytest.mark.parametrize("length", [1, 2, 3, 17, 100, 1000])
def test_every_schedule_matches_store_all(model, length):
    p = params(length)[model]
    xs = np.random.default_rng(length).standard_normal((length, BATCH, INPUT))
    schedules = SHORT if length <= 100 else LONG
    reference = ga.grad(loss, argnums=(1, 2))(model, p, xs, StoreAll())
    for schedule in schedules:
        for via_xs in ((False, True) if length <= 17 else (False,)):
            got = ga.grad(loss, argnums=(1, 2))(model, p, xs, schedule, via_xs)
            for g, r in zip(tree_flatten(got)[0], tree_flatten(reference)[0]):
                np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-14,
                                           err_msg=f"{schedule!r}, xs={via_xs}")


def test_store_all_matches_finite_differences():
    p = params(0)["lstm"]
    xs = np.random.default_rng(1).standard_normal((5, BATCH, INPUT))
    ga.check_grads(lambda W, b: loss("lstm", (W, b), xs, StoreAll()), p, order=1,
                   modes=("rev",))
    ga.check_grads(lambda W, b: loss("lstm", (W, b), xs, Revolve(2)), p, order=2)


@pytest.mark.parametrize("schedule", [Revolve(3), Online(3), EveryK(5), StoreAll()])
def test_step_calls_are_bounded_by_the_plan(schedule):
    length, calls = 40, []
    p = params(2)["rnn"]
    inner = rnn_step(p, False)

    def counted(h, x):
        calls.append(1)
        return inner(h, x)
    xs = np.random.default_rng(2).standard_normal((length, BATCH, INPUT))
    ga.grad(lambda W: gnp.sum(scan(counted, np.zeros((BATCH, HIDDEN)), xs,
                                   schedule=schedule)[1] * W[0, 0]))(p[0])
    plan = schedule.plan(length)
    assert len(calls) <= plan.forward_steps + length + 1


def test_budget_keeps_measured_peak_under_the_budget():
    # arrays big enough that the plan's own Python objects are small next to them
    rng = np.random.default_rng(3)
    W, U = rng.standard_normal((64, 64)) * 0.2, rng.standard_normal((INPUT, 64))
    xs = rng.standard_normal((120, 64, INPUT))
    h0 = np.zeros((64, 64))

    def f(W, schedule):
        return gnp.sum(scan(rnn_step((W, U), False), h0, xs, schedule=schedule)[0])

    with gpuad.memory.track() as full:
        expected = ga.grad(f)(W, StoreAll())
    # once untracked: the first Budget of a process loads segments.py's compiled solver
    # (36 MiB read under tracemalloc when this test ran alone), once per process, not per plan
    ga.grad(f)(W, Budget(int(full.peak_bytes * 0.6)))
    for fraction in (0.15, 0.3, 0.6):
        budget = int(full.peak_bytes * fraction)
        with gpuad.memory.track() as m:
            g = ga.grad(f)(W, Budget(budget))
        assert m.peak_bytes <= budget, (fraction, m.peak_bytes, budget)
        np.testing.assert_allclose(g, expected, rtol=1e-10)


def test_budget_measures_a_step_once_and_again_when_it_keeps_more(monkeypatch):
    """Budget's sizes are kept per step signature; a step that keeps more than it did with the
    same shapes (here: a flag read from a closure) is measured again, and the budget holds."""
    from gpuad.checkpoint import region
    measured = []
    real = region.measure_step
    monkeypatch.setattr(region, "measure_step",
                        lambda *a, **k: measured.append(1) or real(*a, **k))
    monkeypatch.setattr(region, "_MEASURED", {})
    rng = np.random.default_rng(7)
    W = rng.standard_normal((48, 48)) * 0.2
    xs = rng.standard_normal((60, 48, 48))
    heavy = [False]

    def step(h, x):
        h = gnp.tanh(h @ W + x)
        if heavy[0]:  # three more kept residuals, the same shapes in and out
            h = gnp.tanh(gnp.sin(gnp.cos(h)) * 0.5 + h)
        return h, None

    def f(W_, schedule):
        return gnp.sum(scan(lambda h, x: step(h @ W_, x), np.zeros((48, 48)), xs,
                            schedule=schedule)[0])

    with gpuad.memory.track() as full:
        ga.grad(f)(W, StoreAll())
    budget = Budget(int(full.peak_bytes * 0.3))
    for _ in range(3):
        ga.grad(f)(W, budget)
    assert len(measured) <= 2  # a process's first call reads a little more than later ones
    first = len(measured)
    plain = budget.chosen
    heavy[0] = True
    with gpuad.memory.track() as m:
        ga.grad(f)(W, budget)
    assert len(measured) == first + 1, "a step that keeps more must be measured again"
    assert m.peak_bytes <= budget.budget
    assert budget.chosen != plain  # the heavier tape gives another plan


def _snapshot_dirs():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "gpuad-snapshots-*")))


def test_tiered_on_cpu_uses_files_and_removes_them(tmp_path, monkeypatch):
    # A private temporary directory: other processes (parallel test runs, other users of the
    # shared /tmp) make and remove gpuad-snapshots-* directories there while this test counts.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    p = params(4)["rnn"]
    xs = np.random.default_rng(4).standard_normal((30, BATCH, INPUT))
    before = _snapshot_dirs()
    seen = []

    def watching_step(h, x):
        seen.append(len(_snapshot_dirs() - before))
        return rnn_step(p, False)(h, x)

    f = lambda W, s: gnp.sum(scan(watching_step, np.zeros((BATCH, HIDDEN)), xs,  # noqa: E731
                                  schedule=s)[0] * W[0, 0])
    g = ga.grad(f)(p[0], Tiered(fast=3 * 8 * BATCH * HIDDEN, slow=None))
    assert max(seen) == 1  # the memmap tier was in use while the loop ran
    assert _snapshot_dirs() == before
    np.testing.assert_allclose(g, ga.grad(f)(p[0], StoreAll()), rtol=1e-12)

    def failing(h, x):
        if len(seen) > 40:
            raise RuntimeError("step failed")
        return watching_step(h, x)
    with pytest.raises(RuntimeError, match="step failed"):
        ga.grad(lambda W: gnp.sum(scan(failing, np.zeros((BATCH, HIDDEN)), xs,
                                       schedule=Tiered(1, None))[0]))(p[0])
    assert _snapshot_dirs() == before


def test_while_loop_with_online_default():
    p = params(5)["rnn"]
    x = np.random.default_rng(5).standard_normal((BATCH, HIDDEN))

    def f(W):
        def body(c):
            return gnp.tanh(c[0] @ W) * 0.95 + 0.01, c[1] + 1
        h, n = while_loop(lambda c: (gnp.max(gnp.abs(c[0])) > 0.02) & (c[1] < 300), body,
                          (x, 0))
        return gnp.sum(h)

    W = p[0] * 0.8
    trips = while_loop(lambda c: (np.max(np.abs(c[0])) > 0.02) & (c[1] < 300),
                       lambda c: (np.tanh(c[0] @ W) * 0.95 + 0.01, c[1] + 1), (x, 0))[1]

    def unrolled(W):
        h = x
        for _ in range(trips):
            h = gnp.tanh(h @ W) * 0.95 + 0.01
        return gnp.sum(h)
    assert trips > 3
    np.testing.assert_allclose(ga.grad(f)(W), ga.grad(unrolled)(W), rtol=1e-10)
    for schedule in (Online(1), Online(2), StoreAll()):
        g = ga.grad(lambda W: gnp.sum(while_loop(
            lambda c: c[1] < trips, lambda c: (gnp.tanh(c[0] @ W) * 0.95 + 0.01, c[1] + 1),
            (x, 0), schedule=schedule)[0]))(W)
        np.testing.assert_allclose(g, ga.grad(unrolled)(W), rtol=1e-10)


def test_forecast_predicts_memory_and_steps():
    p = params(6)["rnn"]
    # batch 64: at batch 16 StoreAll's forecast moved by 14% with the state of CPython's
    # freelists that earlier tests left (how much of a step's tuples come from them), and with
    # it the share saved, across the 0.5 asserted below
    xs = np.random.default_rng(6).standard_normal((200, 64, INPUT))
    step = rnn_step(p, False)
    h0 = np.zeros((64, HIDDEN))
    fc = forecast(step, h0, xs, schedule=Revolve(8))
    assert fc.step_evaluations == Revolve(8).plan(200).step_evaluations
    assert fc.store_all_step_evaluations == 200
    assert 0.5 < fc.memory_saved < 1 and fc.slowdown > 1
    assert "Revolve(8)" in fc.table()
    # a quarter of the way from what every plan holds (the ys, fingerprints, gradients) to
    # StoreAll's peak
    target = fc.outputs_bytes + (fc.store_all_peak_bytes["total"] - fc.outputs_bytes) // 4
    budget = forecast(step, h0, xs, schedule=Budget(target))
    assert budget.peak_bytes["total"] <= target
    assert budget.step_evaluations < fc.step_evaluations  # more room than Revolve(8) takes

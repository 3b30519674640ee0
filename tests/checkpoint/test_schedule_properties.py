"""Properties of every checkpointing schedule on random step functions (hypothesis).

A step is a random sequence of small ops (elementwise, matmuls, reductions, Python-scalar
arithmetic) on a pytree carry `(h, {"m": m, "s": s})` whose `s` starts as a Python float.
- pure steps: the gradient under every schedule and under `checkpoint` equals StoreAll's bit
  for bit on NumPy (recomputation runs the same NumPy calls on the same values), and nothing
  raises;
- impure steps (NumPy's own random numbers, a counter in a closure) raise
  RecomputationMismatchError under every schedule that recomputes, and never under StoreAll.
Examples are derandomized, so CI sees the same ones each run.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.checkpoint import (
    EveryK,
    Online,
    RecomputationMismatchError,
    Revolve,
    StoreAll,
    Tiered,
    checkpoint,
    scan,
)

from .forced_budget import ForcedBudget

N = 3  # the carry's vectors


# ---- the ops a step is built from: (h, m, s, x, W, b) -> (h, m, s) ------------------------------

OPS = [
    lambda h, m, s, x, W, b: (gnp.tanh(h @ W + b), m, s),             # matmul, broadcast add
    lambda h, m, s, x, W, b: (gnp.sin(h) * m + x, m, s),              # elementwise with x
    lambda h, m, s, x, W, b: (h, m * 0.5 + gnp.tanh(h), s),
    lambda h, m, s, x, W, b: (h - gnp.mean(h), m, s),                 # reductions
    lambda h, m, s, x, W, b: (h / (1.0 + gnp.sum(h * h)), m, s),
    lambda h, m, s, x, W, b: (h, gnp.maximum(m, h), s),
    lambda h, m, s, x, W, b: (0.3 * (W @ m) + 0.5 * h, m, s),         # matrix-vector
    lambda h, m, s, x, W, b: (h * gnp.exp(-x * x), m, s),
    lambda h, m, s, x, W, b: (h, 0.2 * gnp.cumsum(h) + 0.7 * m, s),
    lambda h, m, s, x, W, b: (h, m, s * 0.9 + 0.25),                  # s stays a Python float
    lambda h, m, s, x, W, b: (h * s, m, s),                           # Python scalar * array
    lambda h, m, s, x, W, b: (h, m, 0.5 * s + 0.1 * gnp.max(h)),      # s becomes traced
]


def numpy_generator():
    gen = np.random.default_rng(0)  # made outside the step: recomputation draws anew
    return lambda h: h + 1e-3 * gen.standard_normal(N)


def closure_counter():
    calls = [0]

    def impurity(h):
        calls[0] += 1
        return h * (1 + 1e-3 * calls[0])
    return impurity


IMPURITIES = {"numpy_generator": numpy_generator, "closure_counter": closure_counter}


def make_step(ops, impurity=None):
    def step(W, b):
        def body(carry, x):
            h, rest = carry
            m, s = rest["m"], rest["s"]
            for k in ops:
                h, m, s = OPS[k](h, m, s, x, W, b)
            if impurity is not None:
                h = impurity(h)
            return (h, {"m": m, "s": s}), {"loss": gnp.sum(h * h), "s": s}
        return body
    return step


def _schedules():
    """Every recomputing schedule, fresh (Budget keeps its last plan), and `checkpoint`."""
    return {"EveryK(1)": EveryK(1), "EveryK(2)": EveryK(2), "Revolve(1)": Revolve(1),
            "Revolve(2)": Revolve(2), "Online(2)": Online(2), "Budget": ForcedBudget(),
            "Tiered": Tiered(fast=1), "checkpoint": "checkpoint"}


def loss_of(step, length, schedule):
    xs = np.random.default_rng(length).standard_normal((length, N))
    h0 = np.random.default_rng(length + 1).standard_normal(N)
    m0 = np.linspace(-0.5, 0.5, N)

    def loss(W, b):
        body = step(W, b)
        init = (h0, {"m": m0, "s": 0.5})
        if schedule == "checkpoint":
            (h, rest), ys = scan(checkpoint(body), init, xs, schedule=StoreAll())
        else:
            (h, rest), ys = scan(body, init, xs, schedule=schedule)
        return gnp.sum(ys["loss"]) + gnp.sum(ys["s"]) + gnp.sum(h) + 0.5 * gnp.sum(rest["m"])
    return loss


def value_and_grad(step, length, schedule):
    rng = np.random.default_rng(5)
    W, b = 0.6 * rng.standard_normal((N, N)), 0.1 * rng.standard_normal(N)
    return ga.value_and_grad(loss_of(step, length, schedule), (0, 1))(W, b)


programs = st.lists(st.integers(0, len(OPS) - 1), min_size=1, max_size=6)
PROPERTY = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(ops=programs, length=st.integers(1, 7))
def test_every_schedule_gives_store_alls_gradient_bit_for_bit(ops, length):
    step = make_step(ops)
    value, (gW, gb) = value_and_grad(step, length, StoreAll())
    assert np.isfinite(value)
    for name, schedule in _schedules().items():
        got_value, (got_W, got_b) = value_and_grad(step, length, schedule)
        where = f"{name}, ops {ops}, length {length}"
        assert got_value == value, where
        assert np.array_equal(got_W, gW) and np.array_equal(got_b, gb), where


@PROPERTY
@given(ops=programs, length=st.integers(3, 7), impurity=st.sampled_from(sorted(IMPURITIES)))
def test_impure_steps_raise_when_recomputed_and_never_under_store_all(ops, length, impurity):
    ops = [0] + ops  # the step reads W and b, so the scan is on the tape and gets recomputed
    value, _ = value_and_grad(make_step(ops, IMPURITIES[impurity]()), length, StoreAll())
    assert np.isfinite(value)
    for name, schedule in _schedules().items():
        with pytest.raises(RecomputationMismatchError, match="first forward pass"):
            value_and_grad(make_step(ops, IMPURITIES[impurity]()), length, schedule)
        if isinstance(schedule, ForcedBudget):
            assert not isinstance(schedule.chosen, StoreAll), "the budget did not recompute"

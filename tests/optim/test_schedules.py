"""gpuad.optim's schedules: values from their formulas, the degenerate arguments optax tolerates,
and agreement with optax's schedules over counts 0..120 (skipped without optax and jax)."""
import math

import pytest

from gpuad import optim

# (id, name in gpuad.optim and optax, keyword arguments for both)
SCHEDULES = [
    ("constant", "constant_schedule", dict(value=0.3)),
    ("linear", "linear_schedule", dict(init_value=0.1, end_value=1.0, transition_steps=50)),
    ("linear_late", "linear_schedule",
     dict(init_value=1.0, end_value=0.2, transition_steps=30, transition_begin=20)),
    ("linear_no_steps", "linear_schedule", dict(init_value=0.5, end_value=1.0,
                                                transition_steps=0)),
    ("polynomial", "polynomial_schedule",
     dict(init_value=1.0, end_value=0.01, power=2.5, transition_steps=80, transition_begin=5)),
    ("piecewise", "piecewise_constant_schedule",
     dict(init_value=2.0, boundaries_and_scales={10: 0.5, 40: 0.1, 41: 3.0})),
    ("exponential", "exponential_decay",
     dict(init_value=0.5, transition_steps=7, decay_rate=0.8)),
    ("exponential_staircase", "exponential_decay",
     dict(init_value=0.5, transition_steps=7, decay_rate=0.8, transition_begin=10,
          staircase=True)),
    ("exponential_floor", "exponential_decay",
     dict(init_value=0.5, transition_steps=3, decay_rate=0.5, end_value=0.01)),
    ("exponential_growth_capped", "exponential_decay",
     dict(init_value=0.01, transition_steps=4, decay_rate=1.5, end_value=1.0)),
    ("exponential_negative_begin", "exponential_decay",
     dict(init_value=1.0, transition_steps=4, decay_rate=0.9, transition_begin=-3)),
    ("cosine", "cosine_decay_schedule", dict(init_value=0.2, decay_steps=100)),
    ("cosine_alpha_exponent", "cosine_decay_schedule",
     dict(init_value=0.2, decay_steps=60, alpha=0.1, exponent=2.0)),
    ("warmup_cosine", "warmup_cosine_decay_schedule",
     dict(init_value=0.0, peak_value=1.0, warmup_steps=10, decay_steps=100, end_value=0.05)),
    ("warmup_cosine_no_warmup", "warmup_cosine_decay_schedule",
     dict(init_value=0.3, peak_value=1.0, warmup_steps=0, decay_steps=50)),
]


@pytest.mark.parametrize("case, name, kwargs", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_matches_optax(case, name, kwargs):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    ours, theirs = getattr(optim, name)(**kwargs), getattr(optax, name)(**kwargs)
    with jax.enable_x64(True):
        for count in range(121):
            got = ours(count)
            assert type(got) is float
            assert got == pytest.approx(float(theirs(count)), rel=1e-13, abs=1e-15), (case, count)


def test_formulas():
    s = optim.linear_schedule(2.0, 0.0, transition_steps=4, transition_begin=2)
    assert [s(c) for c in range(8)] == pytest.approx([2, 2, 2, 1.5, 1, 0.5, 0, 0])
    s = optim.exponential_decay(1.0, transition_steps=3, decay_rate=0.1)
    assert s(0) == 1.0 and s(3) == pytest.approx(0.1) and s(4) == pytest.approx(0.1 ** (4 / 3))
    s = optim.cosine_decay_schedule(2.0, decay_steps=10, alpha=0.25)
    assert s(0) == pytest.approx(2.0) and s(10) == pytest.approx(0.5) and s(99) == s(10)
    assert s(5) == pytest.approx(2.0 * (0.75 * 0.5 + 0.25))
    s = optim.warmup_cosine_decay_schedule(0.1, 1.0, warmup_steps=4, decay_steps=14,
                                           end_value=0.2)
    assert [s(c) for c in range(5)] == pytest.approx([0.1, 0.325, 0.55, 0.775, 1.0])
    assert s(9) == pytest.approx(0.2 + 0.8 * 0.5) and s(14) == pytest.approx(0.2)
    assert s(7) == pytest.approx(0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi * 0.3)))
    decay = [s(c) for c in range(4, 15)]
    assert all(a >= b for a, b in zip(decay, decay[1:]))


def test_degenerate_arguments_and_errors():
    assert optim.exponential_decay(0.3, transition_steps=0, decay_rate=0.5)(100) == 0.3
    assert optim.exponential_decay(0.3, transition_steps=5, decay_rate=0.0)(100) == 0.3
    assert optim.polynomial_schedule(0.3, 0.0, 2, transition_steps=-1)(100) == 0.3
    with pytest.raises(ValueError, match="cosine_decay_schedule: decay_steps must be positive"):
        optim.cosine_decay_schedule(1.0, 0)
    with pytest.raises(ValueError, match="cosine_decay_schedule: decay_steps"):
        optim.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=5, decay_steps=5)
    with pytest.raises(ValueError, match="scales must be non-negative"):
        optim.piecewise_constant_schedule(1.0, {3: -0.5})
    with pytest.raises(ValueError, match="join_schedules: 2 schedules need 1 boundaries, got 2"):
        optim.join_schedules([optim.constant_schedule(1.0)] * 2, [1, 2])

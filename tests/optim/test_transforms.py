"""gpuad.optim's building blocks: each against optax's (skipped without optax and jax), clipping,
weight decay with masks and schedules, and the degenerate inputs (zero gradients, no leaves)."""
import copy
import math
import warnings

import numpy as np
import pytest

import gpuad as ga
from gpuad import optim

from .peers import max_difference, optax_run, problem, run

# (id, name in gpuad.optim and optax, positional and keyword arguments for both)
BLOCKS = [
    ("scale", "scale", (-0.3,), {}),
    ("scale_by_learning_rate", "scale_by_learning_rate", (0.2,), {}),
    ("scale_by_learning_rate_unflipped", "scale_by_learning_rate", (0.2,), dict(flip_sign=False)),
    ("scale_by_adam", "scale_by_adam", (), dict(b1=0.8, eps_root=1e-6)),
    ("scale_by_adam_nesterov", "scale_by_adam", (), dict(nesterov=True)),
    ("scale_by_rms", "scale_by_rms", (), dict(decay=0.7, initial_scale=0.5)),
    ("scale_by_rms_corrected", "scale_by_rms", (), dict(eps_in_sqrt=False,
                                                        bias_correction=True)),
    ("scale_by_stddev", "scale_by_stddev", (), dict(decay=0.8)),
    ("scale_by_stddev_corrected", "scale_by_stddev", (), dict(bias_correction=True,
                                                              initial_scale=0.1)),
    ("scale_by_rss", "scale_by_rss", (), dict(initial_accumulator_value=0.3, eps=1e-5)),
    ("trace", "trace", (0.9,), {}),
    ("trace_nesterov", "trace", (0.7,), dict(nesterov=True)),
    ("add_decayed_weights", "add_decayed_weights", (0.1,), {}),
    ("add_decayed_weights_masked", "add_decayed_weights", (0.1,),
     dict(mask={"w": True, "b": False, "s": True})),
    ("clip_by_global_norm", "clip_by_global_norm", (3.0,), {}),     # clips about half the steps
]


@pytest.mark.parametrize("case, name, args, kwargs", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_building_block_matches_optax(case, name, args, kwargs):
    optax = pytest.importorskip("optax")
    params, grads = problem(seed=2)
    ours = run(getattr(optim, name)(*args, **kwargs), params, grads)
    theirs = optax_run(getattr(optax, name)(*args, **kwargs), params, grads)
    assert max_difference(ours, theirs) <= 1e-12


def test_schedules_inside_transformations_match_optax():
    """A scheduled learning rate and a scheduled weight decay read the same counts as optax's."""
    optax = pytest.importorskip("optax")
    params, grads = problem(seed=3, steps=30)

    def make(lib):
        lr = lib.exponential_decay(0.1, transition_steps=5, decay_rate=0.5, transition_begin=3)
        wd = lib.linear_schedule(0.0, 0.2, transition_steps=20)
        return lib.chain(lib.clip_by_global_norm(2.0), lib.scale_by_adam(),
                         lib.add_decayed_weights(wd, mask=lambda u: {k: k != "b" for k in u}),
                         lib.scale_by_learning_rate(lr))

    # optax computes its schedules from an int32 count in float32, even with x64 on
    assert max_difference(run(make(optim), params, grads),
                          optax_run(make(optax), params, grads)) <= 1e-7


# ---- clipping ---------------------------------------------------------------------------------
def test_clip_by_global_norm_values():
    rng = np.random.default_rng(3)
    grads = {"a": rng.standard_normal((4, 3)), "b": [rng.standard_normal(5), None]}
    saved = copy.deepcopy(grads)
    norm = math.sqrt(sum(float(np.sum(x ** 2)) for x in ga.tree_leaves(grads)))
    assert float(optim.global_norm(grads)) == pytest.approx(norm, rel=1e-15)
    tx = optim.clip_by_global_norm(1.0)
    clipped, state = tx.update(grads, tx.init(grads))
    assert state == optim.EmptyState()
    assert float(optim.global_norm(clipped)) == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_allclose(clipped["a"], grads["a"] / norm * 1.0, rtol=1e-15)
    assert clipped["b"][1] is None
    same = optim.clip_by_global_norm(2 * norm).update(grads, optim.EmptyState())[0]
    np.testing.assert_array_equal(same["b"][0], grads["b"][0])         # below: unchanged
    for a, b in zip(ga.tree_leaves(grads), ga.tree_leaves(saved)):
        np.testing.assert_array_equal(a, b)                           # input untouched
    g32 = tx.update({"w": np.full(4, 3.0, np.float32)}, optim.EmptyState())[0]
    assert g32["w"].dtype == np.float32
    np.testing.assert_allclose(g32["w"], 0.5, rtol=1e-7)
    assert optim.global_norm({}) == 0.0 and tx.update({}, optim.EmptyState())[0] == {}


def test_clip_of_a_zero_gradient_is_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = optim.clip_by_global_norm(1.0).update({"w": np.zeros(3)}, optim.EmptyState())[0]
    np.testing.assert_array_equal(out["w"], 0.0)


def test_clip_errors():
    with pytest.raises(ValueError, match="clip_by_global_norm: max_norm must be positive"):
        optim.clip_by_global_norm(0.0)


# ---- weight decay -----------------------------------------------------------------------------
def test_add_decayed_weights_masks():
    params = {"layer": {"w": np.full((2, 2), 2.0), "b": np.full(2, 2.0)}, "scale": np.full(3, 2.0)}
    zeros = ga.tree_map(np.zeros_like, params)
    full = {"layer": {"w": True, "b": False}, "scale": False}
    prefix = {"layer": True, "scale": False}
    for mask, decayed in [(None, {"w", "b", "scale"}), (full, {"w"}), (prefix, {"w", "b"}),
                          (lambda u: ga.tree_map(lambda x: x.ndim > 1, u), {"w"})]:
        tx = optim.add_decayed_weights(0.25, mask=mask)
        out = tx.update(zeros, tx.init(params), params)[0]
        for key, value in [("w", out["layer"]["w"]), ("b", out["layer"]["b"]),
                           ("scale", out["scale"])]:
            np.testing.assert_array_equal(value, 0.5 if key in decayed else 0.0)
    with pytest.raises(ValueError, match="mask has structure .* neither the structure"):
        optim.add_decayed_weights(0.1, mask={"layer": True}).update(
            zeros, optim.EmptyState(), params)
    with pytest.raises(TypeError, match=r"mask\['scale'\] is ndarray; mask leaves must be True"):
        optim.add_decayed_weights(0.1, mask={"layer": True, "scale": np.ones(3)}).update(
            zeros, optim.EmptyState(), params)


def test_scheduled_weight_decay_counts_its_updates():
    tx = optim.add_decayed_weights(lambda count: 0.1 * (count + 1))
    p = {"w": np.array([1.0])}
    state = tx.init(p)
    for count in range(3):
        out, state = tx.update({"w": np.zeros(1)}, state, p)
        np.testing.assert_allclose(out["w"], 0.1 * (count + 1), rtol=1e-15)
    assert state == optim.WeightDecaySchedule(3)


def test_zero_weight_decay_passes_updates_through():
    """As optax: a constant 0 decay does not touch the updates (no 0 * inf = nan)."""
    g, p = {"w": np.array([1.0, 2.0])}, {"w": np.array([np.inf, 1.0])}
    out = optim.add_decayed_weights(0.0).update(g, optim.EmptyState(), p)[0]
    assert out["w"] is g["w"]


# ---- the other blocks -------------------------------------------------------------------------
def test_scale_by_rss_is_zero_where_nothing_accumulated():
    tx = optim.scale_by_rss(initial_accumulator_value=0.0, eps=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, state = tx.update(np.array([0.0, 2.0]), tx.init(np.zeros(2)))
    np.testing.assert_array_equal(out, [0.0, 1.0])
    np.testing.assert_array_equal(state.sum_of_squares, [0.0, 4.0])


def test_scale_by_learning_rate_forms():
    g = {"w": np.array([2.0])}
    assert optim.scale_by_learning_rate(None).update(g, optim.EmptyState())[0] is g
    tx = optim.scale_by_learning_rate(lambda count: 10.0 ** -count)
    state = tx.init(g)
    for count in range(3):
        out, state = tx.update(g, state)
        np.testing.assert_allclose(out["w"], -2.0 * 10.0 ** -count, rtol=1e-15)
    assert state == optim.ScaleByScheduleState(3)
    with pytest.raises(TypeError, match=r"scale_by_schedule: step_size_fn\(0\) must be a real"):
        optim.scale_by_schedule(lambda count: "fast").update(g, optim.ScaleByScheduleState(0))


@pytest.mark.parametrize("case, name, args, kwargs", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_float32_stays_float32(case, name, args, kwargs):
    params, grads = problem(steps=2, dtype=np.float32)
    for updates, new_params in run(getattr(optim, name)(*args, **kwargs), params, grads):
        for x in ga.tree_leaves((updates, new_params)):
            assert x.dtype == np.float32, case

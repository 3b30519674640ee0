"""gpuad.optim.base: chain, apply_updates, and the mistakes of code written for gpuad's
optimizers before they followed optax (update returned new parameters), which must fail loudly."""
import numpy as np
import pytest

from gpuad import optim

from .peers import problem


def test_apply_updates_adds_in_the_parameters_dtype():
    params = {"w": np.ones(3, np.float32), "b": np.zeros(2)}
    updates = {"w": np.array([0.5, -0.25, 1e-9]), "b": np.array([1.0, -1.0], np.float32)}
    new = optim.apply_updates(params, updates)
    assert new["w"].dtype == np.float32 and new["b"].dtype == np.float64
    np.testing.assert_array_equal(new["w"], (params["w"] + updates["w"]).astype(np.float32))
    np.testing.assert_array_equal(new["b"], [1.0, -1.0])
    np.testing.assert_array_equal(params["w"], 1.0)                       # untouched
    with pytest.raises(ValueError, match="apply_updates: updates has structure"):
        optim.apply_updates(params, {"w": updates["w"]})
    with pytest.raises(ValueError, match=r"apply_updates: updates\['b'\] has shape \(3,\)"):
        optim.apply_updates(params, {"w": updates["w"], "b": np.ones(3)})


def test_chain_applies_its_transformations_in_order():
    params, grads = problem(steps=3)
    tx = optim.chain(optim.scale(2.0), optim.trace(0.5), optim.scale(-0.1))
    state = tx.init(params)
    assert len(state) == 3
    momentum = {k: np.zeros_like(v) for k, v in params.items()}
    for g in grads:
        updates, state = tx.update(g, state, params)
        for k in params:
            momentum[k] = 2.0 * g[k] + 0.5 * momentum[k]
            np.testing.assert_allclose(updates[k], -0.1 * momentum[k], rtol=1e-15)
    assert optim.chain().update(grads[0], optim.chain().init(params))[0] is grads[0]


def test_chain_errors():
    with pytest.raises(TypeError, match=r"chain: argument 0 .* got function; call it, e\.g\. "
                                        r"clip_by_global_norm\(\.\.\.\)"):
        optim.chain(optim.clip_by_global_norm, optim.adam(0.1))
    tx = optim.chain(optim.scale(1.0), optim.trace(0.9))
    params = {"w": np.ones(2)}
    with pytest.raises(ValueError, match="chain.update: state holds 1 states for 2"):
        tx.update(params, (tx.init(params)[0],), params)
    with pytest.raises(TypeError, match="trace.update: state must be the TraceState"):
        tx.update(params, (tx.init(params)[0], tx.init(params)[0]), params)


def test_errors_name_the_optimizer_and_the_path():
    opt = optim.adam(0.1)
    with pytest.raises(TypeError, match=r"adam.init: params\['n'\] has type int64"):
        opt.init({"w": np.ones(3), "n": np.arange(3)})
    params = {"w": np.ones(3)}
    state = opt.init(params)
    with pytest.raises(ValueError, match=r"adam.update: params has structure \{'w': \*\} but "
                                         r"updates have \{'v': \*\}"):
        opt.update({"v": np.ones(3)}, state, params)
    with pytest.raises(ValueError, match=r"adam.update: params\['w'\] has shape \(3,\) but .* "
                                         r"\(2,\)"):
        opt.update({"w": np.ones(2)}, state, params)
    with pytest.raises(TypeError, match=r"adam.update: updates\['w'\] has type complex128"):
        opt.update({"w": np.ones(3) + 0j}, state, params)
    with pytest.raises(ValueError, match=r"scale_by_adam.update: state.mu has structure"):
        opt.update({"w": np.ones(3), "x": np.ones(1)}, state)
    with pytest.raises(ValueError, match="add_decayed_weights.update: needs the parameters"):
        optim.adamw(0.1).update(params, optim.adamw(0.1).init(params))


# ---- code written for the old convention ------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: optim.sgd(0.1), lambda: optim.adam(0.01),
                                  lambda: optim.chain(optim.clip_by_global_norm(1.0),
                                                      optim.adamw(0.01)),
                                  lambda: optim.scale_by_adam()],
                         ids=["sgd", "adam", "clip+adamw", "scale_by_adam"])
def test_old_convention_loop_raises_at_the_second_step(make):
    """`params, state = opt.update(grads, state, params)` ran silently with the updates as
    parameters; the updates coming back as params are recognised."""
    params, grads = problem(steps=3)
    opt = make()
    state = opt.init(params)
    params, state = opt.update(grads[0], state, params)       # the old line: no error possible
    with pytest.raises(ValueError, match=r"update: params\['b'\] is an array that the previous "
                                         r"update call returned as an update.*apply_updates"):
        opt.update(grads[1], state, params)


def test_the_old_convention_check_has_no_false_alarms():
    """One optimizer used for two models in turn, and updates fed back as *gradients*, pass."""
    (p1, grads), (p2, _) = problem(steps=4), problem(seed=5, steps=1)
    opt = optim.adam(0.01)
    s1, s2 = opt.init(p1), opt.init(p2)
    for g in grads:
        u1, s1 = opt.update(g, s1, p1)
        p1 = optim.apply_updates(p1, u1)
        u2, s2 = opt.update(u1, s2, p2)
        p2 = optim.apply_updates(p2, u2)


def test_old_state_dict_is_refused():
    params = {"w": np.ones(2)}
    old_state = {"step": 3, "m": {"w": np.zeros(2)}, "v": {"w": np.zeros(2)}}
    for opt in (optim.adam(0.1), optim.scale_by_adam()):
        with pytest.raises(TypeError, match="state is a dict with a 'step' entry.*opt.init"):
            opt.update(params, old_state, params)


@pytest.mark.parametrize("name, replacement", [
    ("Optimizer", "GradientTransformation"), ("constant", "constant_schedule"),
    ("step_decay", "exponential_decay"), ("cosine_with_warmup", "warmup_cosine_decay_schedule")])
def test_removed_names_say_what_replaces_them(name, replacement):
    with pytest.raises(AttributeError, match=f"gpuad.optim.{name} was removed.*{replacement}"):
        getattr(optim, name)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        _ = optim.nonexistent


def test_old_clip_call_fails_loudly():
    grads = {"w": np.array([3.0, 4.0])}
    with pytest.raises(TypeError):
        optim.clip_by_global_norm(grads, 1.0)
    with pytest.raises(TypeError, match="max_norm must be a real number.*chain"):
        optim.clip_by_global_norm(grads)

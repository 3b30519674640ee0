"""gpuad.optim's optimizers: against their update rules written out here in optax's form, step by
step (these run everywhere), and against optax itself on the same 100-step gradient sequence
(skipped without optax and jax); purity, dtypes, the state as plain data, CuPy."""
import copy
import pickle

import numpy as np
import pytest

import gpuad as ga
from gpuad import optim

from .peers import max_difference, optax_run, problem, run

REFERENCE_STEPS = 20


# ---- the rules, one leaf at a time, as optax defines them --------------------------------------
def _reference_sgd(p, gs, key, learning_rate, momentum=None, nesterov=False):
    out, m = [], np.zeros_like(p)
    for g in gs:
        if momentum is not None:
            m = g + momentum * m
            g = g + momentum * m if nesterov else m
        p = p - learning_rate * g
        out.append(p)
    return out


def _reference_adam(p, gs, key, learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0,
                    nesterov=False, weight_decay=0.0, mask=None):
    """Kingma & Ba (2015), Algorithm 1; NAdam's look-ahead moment (Dozat 2016) with nesterov;
    AdamW's decoupled decay added to the direction, scaled by the learning rate."""
    out, m, v = [], np.zeros_like(p), np.zeros_like(p)
    decays = mask is None or mask[key]
    for t, g in enumerate(gs, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        if nesterov:
            m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1 ** t)
        else:
            m_hat = m / (1 - b1 ** t)
        d = m_hat / (np.sqrt(v / (1 - b2 ** t) + eps_root) + eps)
        if decays:
            d = d + weight_decay * p
        p = p - learning_rate * d
        out.append(p)
    return out


def _reference_rmsprop(p, gs, key, learning_rate, decay=0.9, eps=1e-8, initial_scale=0.0,
                       eps_in_sqrt=True, centered=False, momentum=None, nesterov=False,
                       bias_correction=False):
    out, mu, nu, tr = [], np.zeros_like(p), np.full_like(p, initial_scale), np.zeros_like(p)
    for t, g in enumerate(gs, start=1):
        mu = decay * mu + (1 - decay) * g
        nu = decay * nu + (1 - decay) * g ** 2
        c = 1 - decay ** t if bias_correction else 1.0
        var = nu / c - (mu / c) ** 2 if centered else nu / c
        u = -learning_rate * (g / np.sqrt(var + eps) if eps_in_sqrt else g / (np.sqrt(var) + eps))
        if momentum is not None:
            tr = u + momentum * tr
            u = u + momentum * tr if nesterov else tr
        p = p + u
        out.append(p)
    return out


def _reference_adagrad(p, gs, key, learning_rate, initial_accumulator_value=0.1, eps=1e-7):
    out, s = [], np.full_like(p, initial_accumulator_value)
    for g in gs:
        s = s + g ** 2
        p = p - learning_rate * g / np.sqrt(s + eps)
        out.append(p)
    return out


MASK = {"w": True, "b": False, "s": True}
# (id, optimizer name in gpuad.optim and in optax, keyword arguments for both, reference rule)
CASES = [
    ("gd", "sgd", dict(learning_rate=0.1), _reference_sgd),
    ("sgd_momentum", "sgd", dict(learning_rate=0.1, momentum=0.9), _reference_sgd),
    ("sgd_nesterov", "sgd", dict(learning_rate=0.05, momentum=0.8, nesterov=True),
     _reference_sgd),
    ("adam", "adam", dict(learning_rate=0.01), _reference_adam),
    ("adam_options", "adam", dict(learning_rate=0.3, b1=0.5, b2=0.7, eps=1e-3, eps_root=1e-4),
     _reference_adam),
    ("nadam", "adam", dict(learning_rate=0.01, nesterov=True), _reference_adam),
    ("adamw", "adamw", dict(learning_rate=0.01, weight_decay=0.3), _reference_adam),
    ("adamw_masked", "adamw", dict(learning_rate=0.02, weight_decay=0.5, mask=MASK),
     _reference_adam),
    ("rmsprop", "rmsprop", dict(learning_rate=0.01), _reference_rmsprop),
    ("rmsprop_torch_form", "rmsprop",
     dict(learning_rate=0.01, decay=0.99, eps=1e-6, eps_in_sqrt=False, momentum=0.5),
     _reference_rmsprop),
    ("rmsprop_centered", "rmsprop",
     dict(learning_rate=0.01, centered=True, initial_scale=0.2, bias_correction=True,
          momentum=0.9, nesterov=True), _reference_rmsprop),
    ("rmsprop_bias_corrected", "rmsprop",
     dict(learning_rate=0.003, decay=0.8, bias_correction=True), _reference_rmsprop),
    ("adagrad", "adagrad", dict(learning_rate=0.1), _reference_adagrad),
    ("adagrad_options", "adagrad",
     dict(learning_rate=0.5, initial_accumulator_value=0.0, eps=1e-3), _reference_adagrad),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("case, name, kwargs, reference", CASES, ids=IDS)
def test_matches_the_written_out_rule(case, name, kwargs, reference):
    params, grads = problem(steps=REFERENCE_STEPS)
    history = run(getattr(optim, name)(**kwargs), params, grads)
    for key in params:
        want = reference(params[key], [g[key] for g in grads], key, **kwargs)
        for step, ((_, got), w) in enumerate(zip(history, want)):
            np.testing.assert_allclose(got[key], w, rtol=1e-13, atol=1e-15,
                                       err_msg=f"{case}, {key!r}, step {step + 1}")
        assert not np.allclose(history[-1][1][key], params[key])            # it moved


@pytest.mark.parametrize("case, name, kwargs, reference", CASES, ids=IDS)
def test_matches_optax(case, name, kwargs, reference):
    """100 steps on one gradient sequence: float64 to rounding, float32 to float32's."""
    optax = pytest.importorskip("optax")
    for dtype, x64, atol in [(np.float64, True, 1e-12), (np.float32, False, 2e-5)]:
        params, grads = problem(seed=1, dtype=dtype)
        ours = run(getattr(optim, name)(**kwargs), params, grads)
        theirs = optax_run(getattr(optax, name)(**kwargs), params, grads, x64=x64)
        assert max_difference(ours, theirs) <= atol, (case, dtype)


def test_adam_first_step_has_length_learning_rate_per_coordinate():
    """Bias correction makes the first Adam update -lr * g / (|g| + eps), whatever g's scale."""
    g = np.array([1e-4, -3.0, 250.0])
    opt = optim.adam(0.01)
    updates, state = opt.update(g, opt.init(np.zeros(3)))
    np.testing.assert_allclose(updates, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-15)
    assert state[0].count == 1


def test_optimizer_reads_its_schedule_at_each_count():
    schedule = optim.exponential_decay(0.1, transition_steps=2, decay_rate=0.5, staircase=True)
    params, grads = problem(steps=6)
    history = run(optim.sgd(schedule), params, grads)
    p = params["b"]
    for count, g in enumerate(grads):
        p = p - schedule(count) * g["b"]
        np.testing.assert_allclose(history[count][1]["b"], p, rtol=1e-15)


# ---- purity, dtypes, the state ----------------------------------------------------------------
@pytest.mark.parametrize("case, name, kwargs, reference", CASES, ids=IDS)
def test_inputs_untouched_and_float32_kept(case, name, kwargs, reference):
    params, grads = problem(steps=2, dtype=np.float32)
    opt = getattr(optim, name)(**kwargs)
    state = opt.update(grads[0], opt.init(params), params)[1]
    saved = copy.deepcopy((params, grads[1], state))
    updates, new_state = opt.update(grads[1], state, params)
    for a, b in zip(ga.tree_leaves((params, grads[1], state)), ga.tree_leaves(saved)):
        np.testing.assert_array_equal(a, b)
    for x in ga.tree_leaves((updates, optim.apply_updates(params, updates), new_state)):
        if not isinstance(x, int):
            assert x.dtype == np.float32, case


def test_state_is_plain_data_that_saves_and_restores():
    """The state survives pickling and a round trip through tree_flatten / np.asarray leaves
    (counts come back as 0-d arrays), and training continues exactly as without the trip."""
    params, grads = problem(steps=6)
    opt = optim.chain(optim.clip_by_global_norm(2.0),
                      optim.adamw(optim.cosine_decay_schedule(0.1, 10), weight_decay=0.1))
    state = opt.init(params)
    for g in grads[:3]:
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
    leaves, treedef = ga.tree_flatten(state)
    restored = [pickle.loads(pickle.dumps(state)),
                ga.tree_unflatten(treedef, [np.array(x) for x in leaves])]
    def resume(s):
        p = params
        for g in grads[3:]:
            u, s = opt.update(g, s, p)
            p = optim.apply_updates(p, u)
        return p

    want = resume(state)
    for again in restored:
        for a, b in zip(ga.tree_leaves(resume(again)), ga.tree_leaves(want)):
            np.testing.assert_array_equal(a, b)


def test_python_float_parameters():
    opt = optim.adam(0.1)
    updates, _ = opt.update({"x": 2.0}, opt.init({"x": 1.0}), {"x": 1.0})
    assert float(optim.apply_updates({"x": 1.0}, updates)["x"]) == pytest.approx(0.9)


def test_update_is_differentiable():
    """A step written with gpuad.numpy can be differentiated (e.g. for meta-learning)."""
    params, grads = problem(steps=1)

    def after_one_step(p, g):
        opt = optim.adam(0.1, eps_root=1e-8)
        updates, _ = opt.update(g, opt.init(p), p)
        return optim.apply_updates(p, updates)

    ga.check_grads(after_one_step, (params, grads[0]), order=2)


# ---- arguments --------------------------------------------------------------------------------
def test_arguments_whose_position_changed_are_keyword_only():
    """Positional calls that meant something else before (gpuad's adamw(lr, b1, b2, eps, wd),
    adagrad(lr, eps, initial), rmsprop(lr, decay, eps, momentum)) or in optax fail loudly."""
    with pytest.raises(TypeError):
        optim.adamw(0.1, 0.9, 0.999, 1e-8, 0.01)
    with pytest.raises(TypeError):
        optim.adagrad(0.1, 1e-10)
    with pytest.raises(TypeError):
        optim.rmsprop(0.1, 0.99, 1e-8, 0.9)
    with pytest.raises(TypeError):
        optim.adam(lr=0.1)
    with pytest.raises(TypeError, match="scale_by_learning_rate: learning_rate must be a real"):
        optim.adam("0.1")
    with pytest.raises(ValueError, match="nesterov=True needs a momentum"):
        optim.sgd(0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"scale_by_adam: b1 must be in \[0, 1\)"):
        optim.adam(0.1, b1=1.0)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    import cupy
    params, grads = problem(steps=5)
    for case, name, kwargs, _ in CASES:
        opt = getattr(optim, name)(**kwargs)
        want = run(opt, params, grads)[-1][1]
        on_gpu = ga.tree_map(cupy.asarray, (params, grads))
        got = run(opt, on_gpu[0], on_gpu[1])[-1][1]
        assert isinstance(got["w"], cupy.ndarray), case
        for k in params:
            np.testing.assert_allclose(cupy.asnumpy(got[k]), want[k], rtol=1e-12, err_msg=case)

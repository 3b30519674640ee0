"""gpuad.optim: each optimizer against its published update rule written out here, step by step,
and against torch.optim (skipped without PyTorch); schedules; clipping; purity and dtypes."""
import copy
import math

import numpy as np
import pytest

import gpuad as ga
from gpuad import optim

STEPS = 5


def _problem(seed=0, dtype=np.float64):
    """Parameters of two shapes and a gradient sequence of STEPS random pytrees."""
    rng = np.random.default_rng(seed)
    params = {"w": rng.standard_normal((3, 2)).astype(dtype),
              "b": rng.standard_normal(2).astype(dtype)}
    grads = [{k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
             for _ in range(STEPS)]
    return params, grads


def _run(opt, params, grads):
    state = opt.init(params)
    history = []
    for g in grads:
        params, state = opt.update(g, state, params)
        history.append(params)
    return history


# ---- the published rules, one leaf at a time --------------------------------------------------
def _reference_sgd(p, gs, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    out, b = [], np.zeros_like(p)
    for g in gs:
        g = g + weight_decay * p
        if momentum:
            b = momentum * b + g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        out.append(p)
    return out


def _reference_adam(p, gs, lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0):
    """Kingma & Ba (2015), Algorithm 1; AdamW's decoupled decay first when weight_decay > 0."""
    out, m, v = [], np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(gs, start=1):
        p = p - lr * weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def _reference_rmsprop(p, gs, lr, decay=0.99, eps=1e-8, momentum=0.0):
    out, v, b = [], np.zeros_like(p), np.zeros_like(p)
    for g in gs:
        v = decay * v + (1 - decay) * g ** 2
        d = g / (np.sqrt(v) + eps)
        b = momentum * b + d
        p = p - lr * (b if momentum else d)
        out.append(p)
    return out


def _reference_adagrad(p, gs, lr, eps=1e-10, initial_accumulator=0.0):
    out, s = [], np.full_like(p, initial_accumulator)
    for g in gs:
        s = s + g ** 2
        p = p - lr * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


RULES = [
    ("gd", optim.sgd(0.1), _reference_sgd, dict(lr=0.1)),
    ("sgd_momentum", optim.sgd(0.1, momentum=0.9), _reference_sgd, dict(lr=0.1, momentum=0.9)),
    ("sgd_nesterov", optim.sgd(0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
     _reference_sgd, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("adam", optim.adam(0.01), _reference_adam, dict(lr=0.01)),
    ("adam_betas", optim.adam(0.3, b1=0.5, b2=0.7, eps=1e-3), _reference_adam,
     dict(lr=0.3, b1=0.5, b2=0.7, eps=1e-3)),
    ("adamw", optim.adamw(0.01, weight_decay=0.3), _reference_adam,
     dict(lr=0.01, weight_decay=0.3)),
    ("rmsprop", optim.rmsprop(0.01), _reference_rmsprop, dict(lr=0.01)),
    ("rmsprop_momentum", optim.rmsprop(0.01, decay=0.9, momentum=0.5), _reference_rmsprop,
     dict(lr=0.01, decay=0.9, momentum=0.5)),
    ("adagrad", optim.adagrad(0.1, initial_accumulator=0.2), _reference_adagrad,
     dict(lr=0.1, initial_accumulator=0.2)),
]


@pytest.mark.parametrize("name, opt, reference, kwargs", RULES, ids=[r[0] for r in RULES])
def test_matches_published_rule(name, opt, reference, kwargs):
    params, grads = _problem()
    history = _run(opt, params, grads)
    for key in params:
        want = reference(params[key], [g[key] for g in grads], **kwargs)
        for step, (got, w) in enumerate(zip(history, want)):
            np.testing.assert_allclose(got[key], w, rtol=1e-14, atol=1e-15,
                                       err_msg=f"{name}, {key!r}, step {step + 1}")
        assert not np.allclose(history[-1][key], params[key])  # it moved


def test_adam_first_step_has_length_lr_per_coordinate():
    """Bias correction makes the first Adam step lr * g / (|g| + eps), whatever the scale of g."""
    g = np.array([1e-4, -3.0, 250.0])
    p, _ = optim.adam(0.01).update(g, optim.adam(0.01).init(np.zeros(3)), np.zeros(3))
    np.testing.assert_allclose(p, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-15)


# ---- against PyTorch --------------------------------------------------------------------------
def _torch_cases(torch):
    o = torch.optim
    return [
        (optim.sgd(0.1), lambda ps: o.SGD(ps, lr=0.1)),
        (optim.sgd(0.1, momentum=0.9, weight_decay=0.01),
         lambda ps: o.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01)),
        (optim.sgd(0.1, momentum=0.9, nesterov=True),
         lambda ps: o.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)),
        (optim.adam(0.01, b1=0.8, b2=0.95), lambda ps: o.Adam(ps, lr=0.01, betas=(0.8, 0.95))),
        (optim.adamw(0.01, weight_decay=0.1),
         lambda ps: o.AdamW(ps, lr=0.01, weight_decay=0.1)),
        (optim.rmsprop(0.01), lambda ps: o.RMSprop(ps, lr=0.01)),
        (optim.rmsprop(0.01, momentum=0.5), lambda ps: o.RMSprop(ps, lr=0.01, momentum=0.5)),
        (optim.adagrad(0.1), lambda ps: o.Adagrad(ps, lr=0.1)),
    ]


def test_matches_torch_optim():
    torch = pytest.importorskip("torch")
    params, grads = _problem(seed=1)
    for opt, make_torch in _torch_cases(torch):
        history = _run(opt, params, grads)
        tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        torch_opt = make_torch(list(tensors.values()))
        for step, g in enumerate(grads):
            for k, t in tensors.items():
                t.grad = torch.tensor(g[k])
            torch_opt.step()
            for k, t in tensors.items():
                np.testing.assert_allclose(history[step][k], t.detach().numpy(), rtol=1e-12,
                                           atol=1e-14, err_msg=f"{torch_opt}, step {step + 1}")


# ---- schedules --------------------------------------------------------------------------------
def test_step_decay_and_cosine_values():
    assert [optim.step_decay(0.5, 3, 0.1)(s) for s in (0, 2, 3, 6)] == pytest.approx(
        [0.5, 0.5, 0.05, 0.005])
    s = optim.cosine_with_warmup(2.0, warmup_steps=4, total_steps=14, final_lr=0.2)
    assert [s(t) for t in range(4)] == pytest.approx([0.5, 1.0, 1.5, 2.0])
    mid = 4 + 5                                        # half way through the cosine part
    assert s(mid) == pytest.approx(0.2 + 1.8 * 0.5)
    assert s(6) == pytest.approx(0.2 + 1.8 * 0.5 * (1 + math.cos(math.pi * 0.2)))
    assert s(14) == pytest.approx(0.2) and s(100) == pytest.approx(0.2)
    decay = [s(t) for t in range(4, 15)]
    assert all(a >= b for a, b in zip(decay, decay[1:]))


def test_optimizer_reads_schedule_at_each_step():
    schedule = optim.step_decay(0.1, step_size=2, gamma=0.5)
    params, grads = _problem()
    history = _run(optim.sgd(schedule), params, grads)
    p = params["b"]
    for step, g in enumerate(grads):
        p = p - schedule(step) * g["b"]
        np.testing.assert_allclose(history[step]["b"], p, rtol=1e-15)


def test_schedule_errors():
    with pytest.raises(ValueError, match="warmup_steps"):
        optim.cosine_with_warmup(1.0, warmup_steps=5, total_steps=5)
    with pytest.raises(ValueError, match="step_size"):
        optim.step_decay(1.0, 0)
    with pytest.raises(TypeError, match="adam: lr"):
        optim.adam("0.1")


# ---- clipping ---------------------------------------------------------------------------------
def test_clip_by_global_norm():
    rng = np.random.default_rng(3)
    grads = {"a": rng.standard_normal((4, 3)), "b": [rng.standard_normal(5), None]}
    saved = copy.deepcopy(grads)
    want = math.sqrt(sum(float(np.sum(x ** 2)) for x in ga.tree_leaves(grads)))
    clipped, norm = optim.clip_by_global_norm(grads, 1.0)
    assert float(norm) == pytest.approx(want)
    assert float(optim.global_norm(clipped)) == pytest.approx(1.0)
    np.testing.assert_allclose(clipped["a"], grads["a"] / want)
    assert clipped["b"][1] is None
    same, _ = optim.clip_by_global_norm(grads, 2 * want)          # small enough: unchanged
    np.testing.assert_array_equal(same["b"][0], grads["b"][0])
    np.testing.assert_array_equal(grads["a"], saved["a"])         # input untouched
    g32, n32 = optim.clip_by_global_norm({"w": np.ones(4, np.float32)}, 1.0)
    assert g32["w"].dtype == np.float32
    with pytest.raises(ValueError, match="max_norm"):
        optim.clip_by_global_norm(grads, 0.0)


# ---- purity, dtypes, errors -------------------------------------------------------------------
@pytest.mark.parametrize("name, opt", [(r[0], r[1]) for r in RULES], ids=[r[0] for r in RULES])
def test_inputs_untouched_and_float32_kept(name, opt):
    params, grads = _problem(dtype=np.float32)
    state = opt.init(params)
    state = opt.update(grads[0], state, params)[1]
    saved = copy.deepcopy((params, grads[1], state))
    new_params, new_state = opt.update(grads[1], state, params)
    for a, b in zip(ga.tree_leaves((params, grads[1], state)), ga.tree_leaves(saved)):
        np.testing.assert_array_equal(a, b)
    for x in ga.tree_leaves((new_params, {k: v for k, v in new_state.items() if k != "step"})):
        assert x.dtype == np.float32, name
    assert new_state["step"] == 2


def test_python_float_parameters():
    opt = optim.adam(0.1)
    p, state = opt.update({"x": 2.0}, opt.init({"x": 1.0}), {"x": 1.0})
    assert float(p["x"]) == pytest.approx(0.9)


def test_errors_name_the_optimizer_and_the_path():
    opt = optim.adam(0.1)
    params = {"w": np.ones(3), "n": np.arange(3)}
    with pytest.raises(TypeError, match=r"adam.init: parameter params\['n'\] has type int"):
        opt.init(params)
    params = {"w": np.ones(3)}
    state = opt.init(params)
    with pytest.raises(ValueError, match="adam.update: grads have structure"):
        opt.update({"v": np.ones(3)}, state, params)
    with pytest.raises(ValueError, match=r"params\['w'\].*shape \(2,\)"):
        opt.update({"w": np.ones(2)}, state, params)
    with pytest.raises(ValueError, match="nesterov"):
        optim.sgd(0.1, nesterov=True)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    import cupy
    params, grads = _problem()
    opt = optim.adamw(0.01, weight_decay=0.1)
    want = _run(opt, params, grads)[-1]
    on_gpu = ga.tree_map(cupy.asarray, (params, grads))
    got = _run(opt, on_gpu[0], on_gpu[1])[-1]
    assert isinstance(got["w"], cupy.ndarray)
    for k in params:
        np.testing.assert_allclose(cupy.asnumpy(got[k]), want[k], rtol=1e-12)
    clipped, norm = optim.clip_by_global_norm(on_gpu[1][0], 0.5)
    assert isinstance(norm, cupy.ndarray) and isinstance(clipped["w"], cupy.ndarray)

"""Shared by the gpuad.optim tests: a random problem, and a run of a gpuad transformation beside
its optax counterpart on the same gradient sequence."""
import contextlib

import numpy as np
import pytest

from gpuad import optim


def problem(seed=0, steps=100, dtype=np.float64):
    """Parameters of three shapes (0-d included) and `steps` random gradient pytrees."""
    rng = np.random.default_rng(seed)
    params = {"w": rng.standard_normal((3, 2)).astype(dtype),
              "b": rng.standard_normal(2).astype(dtype),
              "s": np.asarray(rng.standard_normal(), dtype=dtype)}
    grads = [{k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
             for _ in range(steps)]
    return params, grads


def run(tx, params, grads):
    """Updates and parameters after each step of `tx` on the gradient sequence."""
    state = tx.init(params)
    history = []
    for g in grads:
        updates, state = tx.update(g, state, params)
        params = optim.apply_updates(params, updates)
        history.append((updates, params))
    return history


def optax_run(optax_tx, params, grads, x64=True):
    """`run` of an optax transformation, results as NumPy arrays; float64 with `x64`."""
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jnp = jax.numpy
    with jax.enable_x64(True) if x64 else contextlib.nullcontext():
        params = jax.tree.map(jnp.asarray, params)
        state = optax_tx.init(params)
        history = []
        for g in grads:
            updates, state = optax_tx.update(jax.tree.map(jnp.asarray, g), state, params)
            params = optax.apply_updates(params, updates)
            history.append(jax.tree.map(np.asarray, (updates, params)))
    return history


def max_difference(ours, theirs):
    """The largest absolute difference between two histories, over all steps and leaves."""
    worst = 0.0
    for (u, p), (u_ref, p_ref) in zip(ours, theirs):
        for key in p:
            for a, b in ((u[key], u_ref[key]), (p[key], p_ref[key])):
                assert np.shape(a) == np.shape(b)
                worst = max(worst, float(np.max(np.abs(np.asarray(a, np.float64) - b))))
    return worst

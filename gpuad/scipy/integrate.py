"""`gpuad.scipy.integrate.odeint`: SciPy's ODE solver, differentiable in reverse mode in the
initial state, the times and the extra arguments, by the adjoint method (as autograd's odeint,
after Chen et al. 2018, "Neural ordinary differential equations").

The solution is not recorded step by step: the backward pass integrates the augmented system

    d/dt [y, a, a_t, a_args] = [f(y, t), -a^T df/dy, -a^T df/dt, -a^T df/dargs]

backwards from each output time to the previous one with SciPy, evaluating the VJPs of `func`
with `ga.vjp` at every solver step. So memory does not grow with the solver's step count.

Limits: CPU (NumPy) arrays only, as SciPy's solver; first-order reverse mode (`grad`, `vjp`);
forward mode, vmap-batched cotangents (`jacrev`) and derivatives of the gradient raise a clear
error (the backward pass runs SciPy on plain arrays). The accuracy of the gradient is that of the backward
integration: tighten `rtol`/`atol` for gradients that must match finite differences closely.
"""
import numpy as np

from .. import backend
from ..custom import custom_vjp
from ..reverse import vjp
from ..trace import BATCH_TRACER_TYPES, TRACER_TYPES, primal_value
from .. import numpy as gnp


def _scipy_odeint():
    return backend.scipy_module("integrate", "integrate.odeint").odeint


def _host(x, name):
    raw = primal_value(x)
    if backend.is_cupy_array(raw):
        raise TypeError(f"integrate.odeint: {name} is a CuPy array; SciPy's solver runs on the "
                        f"host: pass ga.to_numpy({name}) (and move the result back)")
    return np.asarray(raw, dtype=np.float64) if np.asarray(raw).dtype.kind in "iub" \
        else np.asarray(raw)


def _flat(args):
    shapes = [np.shape(a) for a in args]
    flat = np.concatenate([np.ravel(a) for a in args]) if args else np.zeros(0)
    return flat, shapes


def _unflat(flat, shapes):
    out, start = [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        out.append(flat[start:start + n].reshape(shape))
        start += n
    return out


def _solve(func, options, y0, t, *args):
    raw_args = tuple(_host(a, "an argument") for a in args)

    def rhs(y, tt):
        return np.asarray(primal_value(func(y, tt, *raw_args)), dtype=np.result_type(y))
    return _scipy_odeint()(rhs, _host(y0, "y0"), _host(t, "t"), **dict(options))


_solve.__name__ = _solve.__qualname__ = "integrate.odeint"  # the name errors show
_odeint = custom_vjp(_solve, nondiff_argnums=(0, 1))


def _refuse_nesting(*values):
    """The backward pass runs SciPy on plain arrays: under an outer transformation its result
    would silently carry no derivative, so refuse instead."""
    for v in values:
        if type(v) in BATCH_TRACER_TYPES:
            raise NotImplementedError(
                "integrate.odeint: its adjoint runs SciPy on plain arrays and cannot be batched "
                "by vmap (jacrev pushes a batch of cotangents): call the vjp function once per "
                "output row instead")
        if type(v) in TRACER_TYPES:
            raise NotImplementedError(
                "integrate.odeint: only first-order reverse mode is supported (grad, vjp); its "
                "adjoint runs SciPy on plain arrays, so grad of grad, jvp of grad and hessian "
                "through odeint are not available")


def _odeint_fwd(func, options, y0, t, *args):
    _refuse_nesting(y0, t, *args)
    ys = _solve(func, options, y0, t, *args)
    return ys, (ys, _host(t, "t"), tuple(_host(a, "an argument") for a in args))


def _odeint_bwd(func, options, residuals, g):
    ys, t, args = residuals
    _refuse_nesting(g)
    g = _host(g, "the cotangent")
    n = ys.shape[1]
    flat_args, shapes = _flat(args)

    def f_and_vjp(y, tt, p, cot):
        value, pull = vjp(lambda y, tt, p: func(y, tt, *_unflat(p, shapes)), y, tt, p)
        gy, gt, gp = pull(cot)
        return (np.asarray(value), np.asarray(gy), np.asarray(gt).reshape(1),
                np.asarray(gp).reshape(-1))

    def augmented(state, tt):
        y, a = state[:n], state[n:2 * n]
        dy, gy, gt, gp = f_and_vjp(y, np.float64(tt), flat_args, -a)
        return np.concatenate([dy, gy, gt, gp])

    a = g[-1].copy()
    a_t0 = np.zeros(1)
    a_args = np.zeros(flat_args.size)
    grad_t = np.zeros_like(t, dtype=np.result_type(t, np.float64))
    for i in range(len(t) - 1, 0, -1):
        # the output at t[i] moves with t[i] at the speed f: its time cotangent is g_i . f
        dy = np.asarray(primal_value(func(ys[i], t[i], *args)))
        grad_t[i] = g[i] @ dy
        a_t0 = a_t0 - grad_t[i]
        state = np.concatenate([ys[i], a, a_t0, a_args])
        back = _scipy_odeint()(augmented, state, np.array([t[i], t[i - 1]]), **dict(options))[1]
        a, a_t0, a_args = back[n:2 * n], back[2 * n:2 * n + 1], back[2 * n + 1:]
        a = a + g[i - 1]
    grad_t[0] = a_t0[0]
    return (a, grad_t.astype(t.dtype) if t.dtype.kind == "f" else grad_t,
            *_unflat(a_args, shapes))


_odeint.defvjp(_odeint_fwd, _odeint_bwd)


def odeint(func, y0, t, args=(), rtol=None, atol=None, mxstep=0, hmax=0.0, hmin=0.0):
    """`scipy.integrate.odeint`: y(t) for dy/dt = func(y, t, *args), y(t[0]) = y0, at every
    time of `t` (increasing or decreasing), differentiable in reverse mode in `y0`, `t` and each
    array of `args` by the adjoint method (see the module docstring).

    Args:
      func: `func(y, t, *args) -> dy/dt`, written with gpuad.numpy (it is differentiated with
        `ga.vjp` in the backward pass); y is 1-D.
      y0: the initial state, 1-D. t: the output times (t[0] is the initial time).
      args: a tuple of arrays or floats passed to func.
      rtol, atol, mxstep, hmax, hmin: SciPy's solver options (forward and backward solves).

    Returns: an array of shape (len(t), len(y0)).

    Example: y' = -k y, y(0) = 1, so dy(1)/dk = -e^{-k} = -0.6065307 at k = 0.5:
      >>> ga.grad(lambda k: odeint(lambda y, t, k: -k * y, np.ones(1), np.array([0.0, 1.0]),
      ...                          (k,), rtol=1e-10, atol=1e-10)[-1, 0])(0.5)
    """
    y0 = gnp.asarray(y0) if not hasattr(y0, "shape") else y0
    if len(np.shape(primal_value(y0))) != 1:
        raise ValueError(f"integrate.odeint: y0 must be 1-D, got shape "
                         f"{np.shape(primal_value(y0))}; ravel the state and reshape in func")
    if len(np.shape(primal_value(t))) != 1:
        raise ValueError(f"integrate.odeint: t must be 1-D, got shape {np.shape(primal_value(t))}")
    if not isinstance(args, tuple):
        args = (args,)
    options = {"mxstep": mxstep, "hmax": hmax, "hmin": hmin}
    if rtol is not None:
        options["rtol"] = rtol
    if atol is not None:
        options["atol"] = atol
    return _odeint(func, tuple(sorted(options.items())), y0, t, *args)

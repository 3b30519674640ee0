"""`gpuad.scipy.integrate.odeint`: SciPy's ODE solver, differentiable to every order in both modes
in the initial state, the times and the extra arguments (any pytree of arrays).

Reverse mode is the adjoint method (as autograd's and JAX's odeint, after Chen et al. 2018,
"Neural ordinary differential equations"): the solution is not recorded step by step; the
backward pass integrates the augmented system

    d/dt [y, a, a_t, a_args] = [f(y, t), -a^T df/dy, -a^T df/dt, -a^T df/dargs]

backwards from each output time to the previous one, evaluating the VJPs of `func` with
`ga.vjp` at every solver step, so memory does not grow with the solver's step count. Forward
mode integrates the sensitivity system d/dt [y, v] = [f(y, t), df/dy v + df/dargs v_args] from
v(t0) = v_y0 - f(y0, t0) v_t0, and adds f(y(t_i), t_i) v_t_i to each output.

Both rules integrate their systems with this same `odeint`, passing every array they depend on
as an argument, so an outer `grad`, `jvp` or `vmap` differentiates the rules in turn: grad of
grad, hessian, jacfwd and jacrev work (each order integrates a larger system; jacrev and vmap
solve once per example).

Limits: CPU (NumPy) arrays only, as SciPy's solver. Derivatives are those of the exact
solution, accurate to the integration tolerances (tighten `rtol`/`atol` for derivatives that
must match finite differences closely), not the derivatives of SciPy's discrete steps.
"""
import numpy as np

from .. import backend
from .. import numpy as gnp
from ..custom import custom_vjp
from ..forward import jvp
from ..numpy.helpers import shape_of
from ..reverse import vjp
from ..trace import primal_value
from ..tree import tree_flatten, tree_map, tree_unflatten


def _scipy_odeint():
    return backend.scipy_module("integrate", "integrate.odeint").odeint


def _raw(x, name):
    raw = primal_value(x)
    if backend.is_cupy_array(raw):
        raise TypeError(f"integrate.odeint: {name} is a CuPy array; SciPy's solver runs on the "
                        f"host: pass ga.to_numpy({name}) (and move the result back)")
    return raw


def _solve(func, options, y0, t, *args):
    raw_args = tree_map(lambda a: _raw(a, "an argument"), args)

    def rhs(y, tt):
        return np.asarray(primal_value(func(y, tt, *raw_args)), dtype=np.result_type(y))
    return _scipy_odeint()(rhs, np.asarray(_raw(y0, "y0")), np.asarray(_raw(t, "t")),
                           **dict(options))


_solve.__name__ = _solve.__qualname__ = "integrate.odeint"  # the name errors show
_odeint = custom_vjp(_solve, nondiff_argnums=(0, 1))


def _is_float(x):
    """Whether an argument leaf is differentiated: floating arrays and Python floats (integers,
    booleans and other objects are passed to func as they are and get no derivative)."""
    raw = primal_value(x)
    return isinstance(raw, float) or getattr(getattr(raw, "dtype", None), "kind", "") == "f"


class _Arguments:
    """The extra arguments of func, split into their floating leaves (differentiated, passed to
    the rules' own odeint calls as arguments) and the rest (constants, kept here)."""

    def __init__(self, args):
        self.leaves, self.treedef = tree_flatten(args)
        self.floats = [i for i, leaf in enumerate(self.leaves) if _is_float(leaf)]
        self.sizes = [int(np.prod(shape_of(self.leaves[i]))) for i in self.floats]

    def float_leaves(self, args):
        leaves = tree_flatten(args)[0]
        return [leaves[i] for i in self.floats]

    def rebuild(self, floats):
        """The arguments with these floating leaves in place of the original ones."""
        leaves = list(self.leaves)
        for i, leaf in zip(self.floats, floats):
            leaves[i] = leaf
        return tree_unflatten(self.treedef, leaves)

    def cotangents(self, flat):
        """Cotangents shaped like the arguments from one flat vector of the floating leaves'
        (each in its leaf's shape and dtype); a zero scalar stands for each other leaf."""
        out, start = [np.zeros(())] * len(self.leaves), 0
        for i, size in zip(self.floats, self.sizes):
            ct = gnp.reshape(flat[start:start + size], shape_of(self.leaves[i]))
            out[i] = _as_dtype(ct, self.leaves[i])
            start += size
        return tree_unflatten(self.treedef, out)


def _as_dtype(x, like):
    dtype = getattr(primal_value(like), "dtype", None)
    if dtype is None or dtype.kind != "f" or x.dtype == dtype:
        return x
    return gnp.astype(x, dtype)


def _odeint_fwd(func, options, y0, t, *args):
    ys = _odeint(func, options, y0, t, *args)
    return ys, (ys, y0, t, args)


def _odeint_bwd(func, options, residuals, g):
    ys, y0, t, args = residuals
    spec = _Arguments(args)
    n = shape_of(ys)[1]

    def augmented(state, tt, *floats):
        """d/dt of [y, a, a_t, a_args] (see the module docstring)."""
        dy, pull = vjp(lambda y, tt, *floats: func(y, tt, *spec.rebuild(floats)),
                       state[:n], tt, *floats)
        gy, gt, *gp = pull(-state[n:2 * n])
        return gnp.concatenate([dy, gy, gnp.reshape(gt, (1,))] + [gnp.ravel(c) for c in gp])

    floats = spec.float_leaves(args)
    a = g[-1]
    a_t0 = gnp.zeros(1)
    a_args = gnp.zeros(sum(spec.sizes))
    grad_t = []
    for i in range(shape_of(t)[0] - 1, 0, -1):
        # the output at t[i] moves with t[i] at the speed f: its time cotangent is g_i . f
        grad_t.append(gnp.sum(g[i] * func(ys[i], t[i], *args)))
        a_t0 = a_t0 - grad_t[-1]
        state = gnp.concatenate([ys[i], a, a_t0, a_args])
        back = _odeint(augmented, options, state, gnp.stack([t[i], t[i - 1]]), *floats)[1]
        a, a_t0, a_args = back[n:2 * n] + g[i - 1], back[2 * n:2 * n + 1], back[2 * n + 1:]
    grad_t.append(a_t0[0])
    return (_as_dtype(a, y0), _as_dtype(gnp.stack(grad_t[::-1]), t),
            *spec.cotangents(a_args))


def _odeint_jvp(func, options, primals, tangents):
    y0, t, *args = primals
    ty0, tt, *targs = tangents
    spec = _Arguments(tuple(args))
    n = shape_of(y0)[0]
    k = len(spec.floats)

    def sensitivity(state, tt, *floats_and_tangents):
        """d/dt of [y, v]: v' = df/dy v + df/dargs v_args."""
        floats, tfloats = floats_and_tangents[:k], floats_and_tangents[k:]
        dy, dv = jvp(lambda y, *floats: func(y, tt, *spec.rebuild(floats)),
                     (state[:n], *floats), (state[n:], *tfloats))
        return gnp.concatenate([dy, dv])

    ys = _odeint(func, options, y0, t, *args)
    v0 = ty0 - func(y0, t[0], *args) * tt[0]  # a later start t0 shifts the solution back
    joint = _odeint(sensitivity, options, gnp.concatenate([y0, v0]), t,
                    *spec.float_leaves(tuple(args)), *spec.float_leaves(tuple(targs)))
    speeds = gnp.stack([func(ys[i], t[i], *args) for i in range(shape_of(t)[0])])
    return ys, joint[:, n:] + speeds * gnp.expand_dims(tt, -1)


_odeint.defvjp(_odeint_fwd, _odeint_bwd)
_odeint.defjvp(_odeint_jvp)


def odeint(func, y0, t, args=(), rtol=None, atol=None, mxstep=0, hmax=0.0, hmin=0.0):
    """`scipy.integrate.odeint`: y(t) for dy/dt = func(y, t, *args), y(t[0]) = y0, at every
    time of `t` (increasing or decreasing), differentiable to every order in both modes in `y0`,
    `t` and each floating leaf of `args` (see the module docstring).

    Args:
      func: `func(y, t, *args) -> dy/dt`, written with gpuad.numpy (its rules differentiate it
        with `ga.vjp` and `ga.jvp`); y is 1-D.
      y0: the initial state, 1-D. t: the output times (t[0] is the initial time).
      args: a tuple of extra arguments passed to func, each a pytree (a list of (W, b) pairs, a
        dict...); floating leaves are differentiated, other leaves passed as they are.
      rtol, atol, mxstep, hmax, hmin: SciPy's solver options (for every solve, the derivatives'
        too).

    Returns: an array of shape (len(t), len(y0)).

    Example: y' = -k y, y(0) = 1, so dy(1)/dk = -e^{-k} = -0.6065307 at k = 0.5:
      >>> ga.grad(lambda k: odeint(lambda y, t, k: -k * y, np.ones(1), np.array([0.0, 1.0]),
      ...                          (k,), rtol=1e-10, atol=1e-10)[-1, 0])(0.5)
    """
    y0 = gnp.asarray(y0) if not hasattr(y0, "shape") else y0
    if len(shape_of(y0)) != 1:
        raise ValueError(f"integrate.odeint: y0 must be 1-D, got shape {shape_of(y0)}; ravel "
                         f"the state and reshape in func")
    t = gnp.asarray(t) if not hasattr(t, "shape") else t
    if len(shape_of(t)) != 1:
        raise ValueError(f"integrate.odeint: t must be 1-D, got shape {shape_of(t)}")
    if not isinstance(args, tuple):
        args = (args,)
    options = {"mxstep": mxstep, "hmax": hmax, "hmin": hmin}
    if rtol is not None:
        options["rtol"] = rtol
    if atol is not None:
        options["atol"] = atol
    return _odeint(func, tuple(sorted(options.items())), y0, t, *args)

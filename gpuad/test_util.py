"""`check_grads`: compare every derivative mode against central finite differences and each other.

In a random direction `v` of the inputs and a random cotangent `u` of the output:

* forward mode:  the JVP `J v` against `(f(x + eps v) - f(x - eps v)) / (2 eps)`, elementwise;
* reverse mode:  `<u, J v>` (finite differences) against `<J^T u, v>` from the VJP;
* both modes:    `<u, J v>` from the JVP against `<J^T u, v>` from the VJP (adjointness);

then the same one order up, on the functions `x -> J(x) v` and `x -> J(x)^T u`, up to `order`.
The finite differences are computed in float64 (complex128) whatever the inputs' precision. With
complex values, `<a, b>` is the real part of `sum(a * b)` (no conjugation: VJPs are transposes).
"""
import numpy as np

from .forward import jvp
from .reverse import vjp
from .trace import primal_value
from .tree import tree_flatten, tree_map, tree_paths, tree_unflatten


def _host(x):
    raw = primal_value(x)
    return raw.get() if hasattr(raw, "get") and not isinstance(raw, np.ndarray) else np.asarray(raw)


def _is_float(x):
    return np.asarray(_host(x)).dtype.kind in "fc"


def _wide(x):
    """x in float64 / complex128 for the finite differences (same device)."""
    raw = primal_value(x)
    if not hasattr(raw, "dtype"):
        return np.asarray(raw, dtype=np.float64) if isinstance(raw, float) else raw
    if raw.dtype.kind == "f":
        return raw.astype(np.float64)
    if raw.dtype.kind == "c":
        return raw.astype(np.complex128)
    return raw


def _random_like(x, rng):
    raw = primal_value(x)
    shape = np.shape(_host(raw))
    dtype = np.asarray(_host(raw)).dtype
    v = rng.standard_normal(shape)
    if dtype.kind == "c":
        v = v + 1j * rng.standard_normal(shape)
    v = np.asarray(v, dtype=dtype)
    if hasattr(raw, "device") and not isinstance(raw, np.ndarray):  # keep CuPy data on device
        from . import backend
        v = backend.to_device_array(v, backend.namespace(raw))
    return v


def _inner(a_leaves, b_leaves):
    """(sum of Re(a*b), sum of |a|*|b|): the value and its natural magnitude scale."""
    total, scale = 0.0, 0.0
    for a, b in zip(a_leaves, b_leaves):
        a, b = np.asarray(_host(a), dtype=complex), np.asarray(_host(b), dtype=complex)
        total += float(np.real(np.sum(a * b)))
        scale += float(np.sum(np.abs(a) * np.abs(b)))
    return total, scale


def _numeric_jvp(fun, args, v_leaves, treedef, eps):
    leaves = tree_flatten(args)[0]
    plus = [(_wide(x) + eps * _wide(v)) if v is not None else x
            for x, v in zip(leaves, v_leaves)]
    minus = [(_wide(x) - eps * _wide(v)) if v is not None else x
             for x, v in zip(leaves, v_leaves)]
    f_plus = fun(*tree_unflatten(treedef, plus))
    f_minus = fun(*tree_unflatten(treedef, minus))
    return tree_map(lambda a, b: (np.asarray(_host(a), dtype=complex if np.iscomplexobj(_host(a))
                                             else np.float64)
                                  - np.asarray(_host(b))) / (2 * eps), f_plus, f_minus)


def _fail(mode, order, what, detail):
    raise AssertionError(f"check_grads: {mode} mode, order {order}: {what}\n{detail}")


def _compare_arrays(mode, order, what, got, want, rtol, atol, paths):
    for path, g, w in zip(paths, got, want):
        g = np.asarray(_host(g))
        w = np.asarray(_host(w))
        if g.shape != w.shape:
            _fail(mode, order, what, f"{path}: shape {g.shape} but finite differences give "
                                     f"{w.shape}")
        err = np.abs(g - w)
        tol = atol + rtol * np.abs(w)
        if np.any(~(err <= tol)):
            excess = np.where(np.isnan(err), np.inf, err - tol)
            worst = (tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), err.shape))
                     if err.ndim else ())
            _fail(mode, order, what,
                  f"worst element {path}{list(worst) if worst else ''}: derivative "
                  f"{_number(g[worst])} vs finite differences {_number(w[worst])} "
                  f"(abs error {err[worst]:.3g}, allowed {tol[worst]:.3g})")


def _number(v):
    v = complex(v) if np.iscomplexobj(v) else float(v)
    return f"{v:.10g}"


def _compare_scalars(mode, order, what, got, want, scale, rtol, atol):
    if not abs(got - want) <= atol + rtol * scale:
        _fail(mode, order, what, f"{_number(got)} vs {_number(want)} (abs error "
                                 f"{abs(got - want):.3g}, allowed {atol + rtol * scale:.3g})")


def check_grads(fun, args, order=2, modes=("fwd", "rev"), eps=1e-6, rtol=1e-5, atol=1e-6,
                seed=0):
    """Check `fun`'s derivatives at `args` in every mode up to `order` (see the module docstring).

    Args:
      fun: a function of the positional `args` (arrays, floats, pytrees) returning an array or a
        pytree of arrays. Only floating and complex leaves are perturbed.
      args: a tuple of arguments.
      order: the highest derivative order to check (1 = first derivatives).
      modes: any of "fwd" (jvp) and "rev" (vjp).
      eps: the finite-difference step (applied in float64).
      rtol, atol: tolerances, relative to the size of the compared values.
      seed: for the random directions and cotangents.

    Raises:
      AssertionError naming the mode, the order and the worst element.

    Example:
      >>> check_grads(lambda x: gnp.sum(gnp.tanh(x) ** 3), (np.random.rand(3),), order=2)
    """
    if not isinstance(args, (tuple, list)):
        raise TypeError("check_grads: args must be a tuple of arguments, e.g. (x,)")
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {m!r}; use 'fwd' and/or 'rev'")
    rng = np.random.default_rng(seed)
    _check(fun, tuple(args), order, tuple(modes), eps, rtol, atol, rng, 1)


def _check(fun, args, order, modes, eps, rtol, atol, rng, current):
    leaves, treedef = tree_flatten(args)
    v_leaves = [_random_like(x, rng) if _is_float(x) else None for x in leaves]
    diff_pos = [i for i, v in enumerate(v_leaves) if v is not None]
    if not diff_pos:
        raise ValueError("check_grads: no floating-point input to differentiate")

    def restricted(*diff_leaves):
        """fun as a function of the floating leaves only (the others held fixed)."""
        full = list(leaves)
        for i, x in zip(diff_pos, diff_leaves):
            full[i] = x
        return fun(*tree_unflatten(treedef, full))

    primals = [leaves[i] for i in diff_pos]
    dirs = [v_leaves[i] for i in diff_pos]
    num = _numeric_jvp(restricted, tuple(primals), dirs, tree_flatten(tuple(primals))[1], eps)
    num_leaves, out_def = tree_flatten(num)
    out_paths = tree_paths(out_def, "output")

    tan_leaves = None
    if "fwd" in modes:
        _, tan = jvp(restricted, tuple(primals), tuple(dirs))
        tan_leaves = tree_flatten(tan)[0]
        _compare_arrays("fwd", current, "JVP vs finite differences", tan_leaves, num_leaves,
                        rtol, atol, out_paths)
    u_leaves = None
    if "rev" in modes:
        out, vjp_fn = vjp(restricted, *primals)
        o_leaves, o_def = tree_flatten(out)
        u_leaves = [_random_like(o, rng) for o in o_leaves]
        cots = vjp_fn(tree_unflatten(o_def, u_leaves))
        lhs, scale = _inner(u_leaves, num_leaves)
        rhs, _ = _inner(list(cots), dirs)
        _compare_scalars("rev", current, "<u, J v> (finite differences) vs <J^T u, v> (VJP)",
                         rhs, lhs, scale, rtol, atol)
        if tan_leaves is not None:
            lhs_fwd, scale_fwd = _inner(u_leaves, tan_leaves)
            _compare_scalars("fwd/rev", current, "<u, J v> (JVP) vs <J^T u, v> (VJP)",
                             rhs, lhs_fwd, scale_fwd, rtol, atol)

    if current < order:
        if "fwd" in modes:
            def jvp_of(*p):
                return jvp(restricted, p, tuple(dirs))[1]
            _check(jvp_of, tuple(primals), order, modes, eps, rtol, atol, rng, current + 1)
        if "rev" in modes:
            def vjp_of(*p):
                out_, fn = vjp(restricted, *p)
                return fn(tree_unflatten(tree_flatten(out_)[1], u_leaves))
            _check(vjp_of, tuple(primals), order, modes, eps, rtol, atol, rng, current + 1)

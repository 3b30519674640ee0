"""Jacobians, Hessians and Hessian-vector products: compositions of the two modes and vmap.

Which way each goes, and why:

* `jacfwd` pushes the whole basis of input tangents through ONE forward sweep, batched by
  `vmap` (the primal is computed once, the tangents carry a leading axis of size n = input
  size). Cost ~ n JVP-widths of work: the right choice when inputs are few and outputs many.
* `jacrev` runs the function once, then pulls the whole basis of output cotangents back through
  ONE batched backward sweep (vmap of the VJP function). Cost ~ m VJP-widths: the right choice
  when outputs are few (a gradient is jacrev with m = 1).
* `hessian` is `jacfwd(jacrev(f))` (forward-over-reverse): the gradient's Jacobian, built by n
  batched forward passes through the backward sweep.
* `hvp` is `jvp(grad(f))`: H v at a small constant multiple of one gradient's cost, without
  forming H.
Ops without a batching rule make the batched sweep loop over the basis internally (still one
recording of f, just slower); each primitive declares its rule (`Primitive(batch=...)`) and
`gpuad.batching.BATCHING_RULES` lists them.

Layout (as JAX's): a Jacobian of an output of shape O with respect to an input of shape I has
shape O + I; pytrees nest as output structure outside, input structure inside.
"""
import functools

import numpy as np

from . import backend
from .batching import vmap
from .forward import jvp_named
from .reverse import (
    check_differentiable,
    normalize_argnums,
    transform_name,
    value_and_grad_named,
    vjp_named,
)
from .trace import as_value, namespace_of, primal_value
from .tree import tree_flatten, tree_unflatten


def _basis(leaves):
    """One identity basis over all `leaves` together: for each leaf, an array (n, *leaf.shape)
    whose row r is the r-th unit vector of the concatenated leaves."""
    leaves = [as_value(x) for x in leaves]  # a Python complex gets a complex basis
    sizes = [int(np.prod(x.shape, dtype=np.int64)) for x in leaves]
    n = sum(sizes)
    out, start = [], 0
    for x, k in zip(leaves, sizes):
        xp = namespace_of(x)
        block = xp.zeros((n, k), dtype=x.dtype)
        block[start:start + k] = xp.eye(k, dtype=x.dtype)
        out.append(block.reshape((n,) + tuple(x.shape)))
        start += k
    return out, sizes


def _split_rows(stacked, sizes, shapes, trailing_shape, rows_first):
    """Cut a batched result (n, *trailing) into one block per leaf and lay each out as
    leaf_shape + trailing (rows_first) or trailing + leaf_shape."""
    from .numpy import moveaxis, reshape
    blocks, start = [], 0
    for k, shape in zip(sizes, shapes):
        block = reshape(stacked[start:start + k], tuple(shape) + tuple(trailing_shape))
        if not rows_first:
            nr, nt = len(shape), len(trailing_shape)
            block = moveaxis(block, list(range(nr)), list(range(nt, nt + nr)))
        blocks.append(block)
        start += k
    return blocks


def _diff_args(fun, args, argnums, name):
    """(fun of the differentiated args only, their values, single?), the values checked as
    `grad` checks its inputs (errors name their positions among `args`)."""
    single, nums = normalize_argnums(name, argnums, len(args))
    check_differentiable(name, args, nums)

    def restricted(*diff):
        full = list(args)
        for n, d in zip(nums, diff):
            full[n] = d
        return fun(*full)

    return restricted, tuple(args[n] for n in nums), single


def jacfwd(fun, argnums=0):
    """The Jacobian of `fun` by forward mode: one vmapped JVP sweep over the input basis.

    Args:
      fun: a function of arrays / pytrees returning an array or pytree of arrays.
      argnums: an int or tuple of ints: the arguments to differentiate.

    Returns:
      A function returning the Jacobian: for an output of shape O and an input of shape I, an
      array of shape O + I; pytrees nest output structure outside input structure, with a tuple
      level for a tuple `argnums`.

    Example:
      >>> ga.jacfwd(lambda x: gnp.sin(x) * 2.0)(gnp.asarray([0.0, 1.0]))   # diag(2 cos x)
      array([[2.        , 0.        ],
             [0.        , 1.08060461]])
    """
    return _jacfwd(fun, argnums, transform_name("jacfwd", fun))


def _jacfwd(fun, argnums, name):
    @functools.wraps(fun)
    def jacobian_fn(*args):
        restricted, primals, single = _diff_args(fun, args, argnums, name)
        p_leaves, p_def = tree_flatten(primals)
        basis, sizes = _basis(p_leaves)
        out_tangents = vmap(
            lambda *t: jvp_named(restricted, primals, tree_unflatten(p_def, t), name)[1])(*basis)
        return _assemble(out_tangents, p_def, p_leaves, sizes, single, forward=True)

    return jacobian_fn


def jacrev(fun, argnums=0):
    """The Jacobian of `fun` by reverse mode: one vmapped VJP sweep over the output basis.

    Same arguments and layout as `jacfwd`; prefer it when outputs are fewer than inputs.

    Example:
      >>> ga.jacrev(lambda x: gnp.sum(x ** 2))(gnp.asarray([1.0, 2.0]))     # the gradient
      array([2., 4.])
    """
    return _jacrev(fun, argnums, transform_name("jacrev", fun))


def _jacrev(fun, argnums, name):
    @functools.wraps(fun)
    def jacobian_fn(*args):
        restricted, primals, single = _diff_args(fun, args, argnums, name)
        out, vjp_fn = vjp_named(restricted, primals, False, name)
        o_leaves, o_def = tree_flatten(out)
        basis, sizes = _basis(o_leaves)
        cots = vmap(lambda *u: vjp_fn(tree_unflatten(o_def, u)))(*basis)
        p_leaves, p_def = tree_flatten(primals)
        c_leaves = tree_flatten(cots)[0]
        # per input leaf: (m, *in_shape) -> one block per output leaf: out_shape + in_shape
        per_input = [_split_rows(c, sizes, [getattr(o, "shape", ()) for o in o_leaves],
                                 getattr(p, "shape", ()), rows_first=True)
                     for c, p in zip(c_leaves, p_leaves)]
        results = []
        for j in range(len(o_leaves)):
            inner = tree_unflatten(p_def, [blocks[j] for blocks in per_input])
            results.append(inner[0] if single else inner)
        return tree_unflatten(o_def, results)

    return jacobian_fn


def _assemble(out_tangents, p_def, p_leaves, sizes, single, forward):
    """jacfwd's layout: output structure outside, input structure inside, shapes O + I."""
    o_leaves, o_def = tree_flatten(out_tangents)
    p_shapes = [getattr(p, "shape", ()) for p in p_leaves]
    results = []
    for t in o_leaves:
        o_shape = tuple(t.shape)[1:]
        blocks = _split_rows(t, sizes, p_shapes, o_shape, rows_first=False)
        inner = tree_unflatten(p_def, blocks)
        results.append(inner[0] if single else inner)
    return tree_unflatten(o_def, results)


jacobian = jacrev


def hessian(fun, argnums=0):
    """The Hessian of a scalar function, forward-over-reverse: `jacfwd(jacrev(fun))`.

    For an input of shape I the result has shape I + I.

    Example:
      >>> A = gnp.asarray([[1.0, 2.0], [0.0, 3.0]])
      >>> ga.hessian(lambda x: x @ A @ x)(gnp.ones(2))                      # A + A^T
      array([[2., 2.],
             [2., 6.]])
    """
    name = transform_name("hessian", fun)
    return _jacfwd(_jacrev(fun, argnums, name), argnums, name)


def hvp(fun, primals, tangents):
    """The Hessian of the scalar `fun` at `primals` applied to `tangents`, without forming it.

    Forward-over-reverse: the JVP of the gradient, costing a small constant multiple of one
    gradient evaluation whatever the size (benchmarks/hvp.py measures it).

    Args:
      fun: a scalar function of the arguments in `primals`.
      primals: a tuple of arguments (all differentiated).
      tangents: a tuple of the same structure: the vector v.

    Returns:
      H v, with the structure of `primals[0]` for one argument, else a tuple over the arguments.

    Example:
      >>> ga.hvp(lambda x: gnp.sum(x ** 3), (gnp.asarray([1.0, 2.0]),), (gnp.ones(2),))
      array([ 6., 12.])
    """
    name = transform_name("hvp", fun)
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{name}: primals and tangents must be tuples of arguments, "
                        f"e.g. ga.hvp(f, (x,), (v,))")
    argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    value_and_grad_fn = value_and_grad_named(fun, argnums, False, name)
    return jvp_named(lambda *p: value_and_grad_fn(*p)[1], tuple(primals), tuple(tangents), name)[1]


def elementwise_grad(fun, argnum=0):
    """The gradient of `sum(fun(x))` with respect to argument `argnum`: for an elementwise
    function, its derivative at every element (autograd's `elementwise_grad`).

    Example:
      >>> ga.elementwise_grad(gnp.tanh)(gnp.asarray([0.0, 1.0]))            # 1 - tanh^2
      array([1.        , 0.41997434])
    """
    name = transform_name("elementwise_grad", fun)

    @functools.wraps(fun)
    def derivative(*args):
        restricted, primals, _ = _diff_args(fun, args, argnum, name)
        out, vjp_fn = vjp_named(restricted, primals, False, name)
        from .numpy import ones_like
        leaves, treedef = tree_flatten(out)
        return vjp_fn(tree_unflatten(treedef, [ones_like(o) for o in leaves]))[0]

    return derivative


def holomorphic_grad(fun, argnums=0):
    """The complex derivative f'(z) of a holomorphic scalar function of complex arguments.

    For holomorphic f the VJP with cotangent 1 is f'(z) itself (a VJP is the transpose of the
    JVP, and the JVP of a holomorphic f is multiplication by f'(z)), so this is `vjp` seeded
    with 1 + 0j. JAX's `grad(f, holomorphic=True)` gives the same. For a real-valued function
    of complex inputs use `grad` instead (its convention: conj of the Wirtinger derivative
    d/dz-bar, times 2; see the `gpuad.numpy` docs).

    Example:
      >>> ga.holomorphic_grad(lambda z: z ** 3)(1.0 + 2.0j)                # 3 z^2
      (-9+12j)
    """
    name = transform_name("holomorphic_grad", fun)

    @functools.wraps(fun)
    def derivative(*args):
        restricted, primals, single = _diff_args(fun, args, argnums, name)
        for n, p in enumerate(primals):
            for leaf in tree_flatten(p)[0]:
                value = primal_value(leaf)
                dtype = value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype
                if dtype.kind != "c":
                    raise TypeError(f"{name}: differentiated argument {n} has dtype {dtype}; "
                                    f"a holomorphic derivative needs complex inputs: pass "
                                    f"x.astype(complex), or use ga.grad for real inputs.")
        out, vjp_fn = vjp_named(restricted, primals, False, name)
        value = primal_value(out)
        shape = getattr(value, "shape", ())
        if shape != () or not np.iscomplexobj(value):
            raise TypeError(f"{name}: the function must return a complex scalar, not "
                            f"{getattr(value, 'dtype', type(value).__name__)} of shape "
                            f"{tuple(shape)}. For a real output use ga.grad; for an array "
                            f"output ga.vjp or ga.jacrev.")
        xp = backend.namespace(value) if hasattr(value, "dtype") else np
        grads = vjp_fn(xp.ones((), dtype=np.result_type(value)))
        return grads[0] if single else grads

    return derivative

"""gpuad: automatic differentiation of array programs on GPUs (CuPy) and CPUs (NumPy + Numba).

    import gpuad as ga
    import gpuad.numpy as gnp

    f = lambda x1, x2: gnp.cos(x1) + x1 * x2 - gnp.exp(x2)
    ga.grad(f, argnums=(0, 1))(2.0, 4.0)

Transforms: `grad`, `value_and_grad`, `vjp` (reverse mode), `jvp` (forward mode),
`stop_gradient`. Data movement: `to_numpy`, `to_device`, `set_backend`. Switches: `config`.
Training toolkit: `optim` (optimizers, schedules), `nn` (initializers, cells, losses), `tasks`
(synthetic long-memory sequence tasks). Pytrees: `tree_util` (JAX's names). Memory: `checkpoint`
(scan, schedules, forecast), `memory` (peak tracking).

The submodules are attributes (`ga.optim.adam`) but are imported on first use (PEP 562 module
`__getattr__`), so that `import gpuad` stays fast: 0.5 s was the goal, see benchmarks/README.md.
"""
import importlib

from . import backend
from .backend import get_backend, set_backend
from .config import config
from . import numpy  # noqa: F401  (attaches array behaviour to tracers)
from .forward import jvp, linearize
from .reverse import grad, stop_gradient, value_and_grad, vjp
# the fusing tape, installed as the recorder ReverseTrace() gives (kernels/tape.py; light: the
# kernels' code generator and Numba load on the first op that fuses)
from .kernels import tape as _tape  # noqa: F401
from .trace import ConcretizationError, ConcretizationTypeError, UnexpectedTracerError
from .batching import vmap
from .custom import custom_jvp, custom_vjp
from .transforms import (elementwise_grad, hessian, holomorphic_grad, hvp, jacfwd, jacobian,
                         jacrev)
from .jit import jit
from .tree import (register_dataclass, register_pytree_node, tree_flatten, tree_leaves, tree_map,
                   tree_structure, tree_unflatten)

__version__ = "0.1.0"


def to_numpy(tree):
    """Every array leaf of `tree` as a NumPy array on the host (CuPy arrays are copied back)."""
    return tree_map(backend.to_numpy_array, tree)


def to_device(tree):
    """Every NumPy array leaf of `tree` moved to the default backend's device (a no-op on the
    NumPy backend)."""
    xp = backend.default_namespace()
    return tree_map(lambda x: backend.to_device_array(x, xp), tree)


# Submodules and names loaded on first access rather than by `import gpuad`: together they were
# about a third of its import time (nn pulls in gpuad.scipy.special; checkpoint its executor).
_LAZY_SUBMODULES = frozenset({"checkpoint", "distributed", "experiment", "memory", "nn", "optim",
                              "scipy", "tasks", "test_util", "tree_util"})
_LAZY_NAMES = {"RecomputationMismatchError": "checkpoint", "check_grads": "test_util"}


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")  # also binds it on the package
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY_SUBMODULES | set(_LAZY_NAMES))

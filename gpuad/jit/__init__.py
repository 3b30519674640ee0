"""`ga.jit`: record a function once per argument signature, replay it without tracers.

record.py: the recording trace (its tracers refuse conversions to Python values);
draws.py: random draws as steps; program.py: the flat program and its replay loop;
api.py: `jit`, its cache and its composition with the other transforms; steps.py: the
recordings of `scan(..., jit=True)`'s step.
"""
from ..hooks import SCAN_STEP_PROGRAMS
from . import api
from .api import Jitted, jit  # noqa: F401


def _scan_step_programs(step, wanted, name="scan"):
    """`scan`'s step (or `while_loop`'s body, `name`) and its recordings (steps.py), imported
    at a loop's first need: steps.py imports gpuad.checkpoint, which `import gpuad` leaves for
    later (import time)."""
    if not wanted and not isinstance(step, Jitted):
        return step, None
    from .steps import step_programs
    return step_programs(step, wanted, name)


def _differentiated_call(jitted, args, kwargs, leaves, treedef):
    """`grad(jit(f))`'s replay with f's VJP (steps.py), imported at its first need."""
    from .steps import differentiated_call
    return differentiated_call(jitted, args, kwargs, leaves, treedef)


SCAN_STEP_PROGRAMS.append(_scan_step_programs)
api.DIFFERENTIATED.append(_differentiated_call)

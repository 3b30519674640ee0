"""`ga.jit`: record a function once per argument signature, replay it without tracers.

record.py: the recording trace (its tracers refuse conversions to Python values);
draws.py: random draws as steps; program.py: the flat program and its replay loop;
api.py: `jit`, its cache and its composition with the other transforms; steps.py: the
recordings of `scan(..., jit=True)`'s step.
"""
from . import steps  # noqa: F401 (installs scan(..., jit=True))
from .api import jit  # noqa: F401

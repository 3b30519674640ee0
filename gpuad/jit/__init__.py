"""`ga.jit`: record a function once per argument signature, replay it without tracers.

record.py: the recording trace (its tracers refuse conversions to Python values);
draws.py: random draws as steps; program.py: the flat program and its replay loop;
api.py: `jit`, its cache and its composition with the other transforms.
"""
from .api import jit  # noqa: F401

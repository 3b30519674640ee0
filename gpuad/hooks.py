"""Slots where a higher layer installs a function a lower layer calls, so that the lower one
never imports the higher one (docs/ARCHITECTURE.md) and neither is imported before it is used.

- `SCAN_STEP_PROGRAMS`: `scan(..., jit=True)` and `while_loop(..., jit=True)`
  (gpuad/checkpoint/executor.py) ask the function here for the step (the body) to call and its
  recordings; gpuad/jit puts one here when imported, and it
  imports gpuad/jit/steps.py (and with it gpuad.checkpoint) only when a scan first needs it,
  so `import gpuad` stays without gpuad.checkpoint.
"""
SCAN_STEP_PROGRAMS = []

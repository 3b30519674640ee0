"""Run-time switches, read from the environment once, here, and settable from code.

    >>> import gpuad as ga
    >>> ga.config.debug_nans = True      # or GPUAD_DEBUG_NANS=1
    >>> ga.config.fusion = False         # or GPUAD_FUSION=0
    >>> ga.config.recompute_check = "allclose"   # or GPUAD_RECOMPUTE_CHECK=allclose

Every other module reads these attributes at call time, so changing them takes effect at once.
"""
import os


def _env_flag(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={raw!r}: expected 1/0, true/false, yes/no or on/off")


RECOMPUTE_CHECKS = ("auto", "exact", "allclose", "off")


def _recompute_check(value, source):
    if isinstance(value, str) and value.strip().lower() in RECOMPUTE_CHECKS:
        return value.strip().lower()
    raise ValueError(f"{source}={value!r}: expected one of {', '.join(RECOMPUTE_CHECKS)} (auto: "
                     f"exact on NumPy arrays, allclose on CuPy arrays)")


class Config:
    """The switches. One instance, `gpuad.config`.

    Attributes:
      debug_nans: raise `FloatingPointError` at the first traced op whose forward result or
        backward cotangent holds a NaN, naming the op and its tape position (env
        `GPUAD_DEBUG_NANS`). Costs one scan of every result, so it is off by default.
      fusion: let the backward sweep run fused elementwise kernels where they pay
        (env `GPUAD_FUSION`, default on). Results are the same to rounding either way.
      fusion_min_size: smallest array (elements) for which a fused kernel is used; below it the
        per-op rules are faster (env `GPUAD_FUSION_MIN_SIZE`).
      fusion_forward: with `fusion`, the forward values of fused ops on NumPy arrays of
        `fusion_forward_min_size` elements or more are computed only when read, chunk by chunk,
        so a chain holds no intermediates (env `GPUAD_FUSION_FORWARD`, default on; see
        gpuad/kernels/forward.py). Values are the same either way.
      fusion_forward_min_size: smallest array for lazy forward values (env
        `GPUAD_FUSION_FORWARD_MIN_SIZE`). Measured on the project's machines: up to 2^20
        elements the chunks' Python overhead makes the forward pass 5-40% slower than eager,
        at 10^7 it is 5-30% faster, and it always holds less.
      recompute_check: how checkpointing (`scan`, `while_loop`, `checkpoint` with any
        schedule but StoreAll) checks each step it recomputes in the backward pass against
        the first forward pass, raising `gpuad.checkpoint.RecomputationMismatchError` on a
        difference (env `GPUAD_RECOMPUTE_CHECK`): "exact" (bit for bit), "allclose" (within
        NumPy's allclose tolerances), "off", or "auto" (the default: exact on NumPy arrays,
        allclose on CuPy arrays, whose reductions need not be bitwise reproducible). See
        gpuad/checkpoint/verify.py.
    """

    __slots__ = ("debug_nans", "fusion", "fusion_min_size", "fusion_forward",
                 "fusion_forward_min_size", "_recompute_check")
    FIELDS = ("debug_nans", "fusion", "fusion_min_size", "fusion_forward",
              "fusion_forward_min_size", "recompute_check")

    def __init__(self):
        self.debug_nans = _env_flag("GPUAD_DEBUG_NANS", False)
        self.fusion = _env_flag("GPUAD_FUSION", True)
        self.fusion_min_size = int(os.environ.get("GPUAD_FUSION_MIN_SIZE", "65536"))
        self.fusion_forward = _env_flag("GPUAD_FUSION_FORWARD", True)
        self.fusion_forward_min_size = int(os.environ.get("GPUAD_FUSION_FORWARD_MIN_SIZE",
                                                          str(1 << 20)))
        self._recompute_check = _recompute_check(
            os.environ.get("GPUAD_RECOMPUTE_CHECK") or "auto", "GPUAD_RECOMPUTE_CHECK")

    @property
    def recompute_check(self):
        return self._recompute_check

    @recompute_check.setter
    def recompute_check(self, value):
        self._recompute_check = _recompute_check(value, "config.recompute_check")

    def snapshot(self):
        """The settings as a tuple, for keys of what depends on them."""
        return tuple(getattr(self, k) for k in self.FIELDS)

    def __repr__(self):
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.FIELDS)
        return f"Config({fields})"


config = Config()

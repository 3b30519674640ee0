"""Peak memory of a block of code: `with gpuad.memory.track() as m: ...; m.peak_bytes`.

What is counted is the memory allocated inside the block and alive at its worst moment, above what
was alive when it began: the arrays held by tapes, checkpoint snapshots and temporaries.

- NumPy: `tracemalloc`, which sees NumPy's array buffers (NumPy reports them to it) as well as the
  Python objects made meanwhile (small next to arrays of any size). Tracing slows Python's
  allocator, so time a run and measure its memory in separate runs.
- CuPy: a CuPy memory hook counting the pool's allocations and releases on the device.

    >>> import numpy as np, gpuad.memory
    >>> with gpuad.memory.track() as m:
    ...     a = np.ones(1_000_000)
    ...     del a
    >>> m.peak_bytes >= 8_000_000
    True
"""
import contextlib
import tracemalloc

from . import backend
from .units import format_bytes


class MemoryReport:
    """Filled in by `track`: `peak_bytes` (the worst moment) and `end_bytes` (still alive at the
    end of the block), both relative to the start, and `device` ("host" or "cuda")."""

    __slots__ = ("peak_bytes", "end_bytes", "device")

    def __init__(self, device):
        self.device = device
        self.peak_bytes = 0
        self.end_bytes = 0

    def __repr__(self):
        return (f"MemoryReport(device={self.device!r}, peak={format_bytes(self.peak_bytes)}, "
                f"end={format_bytes(self.end_bytes)})")


@contextlib.contextmanager
def track(device=None):
    """Measure the peak memory allocated within the block.

    Args:
      device: "host" (NumPy memory via tracemalloc) or "cuda" (CuPy's device pool). Default: the
        default backend's (`gpuad.get_backend()`).

    Nested `track` blocks on the host share one tracemalloc session: each reports its own peak.
    """
    if device is None:
        device = "cuda" if backend.get_backend() == "cupy" else "host"
    report = MemoryReport(device)
    if device == "cuda":
        with _track_cuda(report):
            yield report
        return
    if device != "host":
        raise ValueError(f"gpuad.memory.track: device={device!r}; use 'host' or 'cuda'.")
    with _track_host(report):
        yield report


_host_sessions = []  # [report, base] of the open host blocks: tracemalloc has one global peak


@contextlib.contextmanager
def _track_host(report):
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    _fold_peak()  # the outer blocks' peaks so far are folded into them, then the peak resets
    session = [report, tracemalloc.get_traced_memory()[0]]
    _host_sessions.append(session)
    try:
        yield report
    finally:
        current, peak = tracemalloc.get_traced_memory()
        _host_sessions.remove(session)
        base = session[1]
        report.peak_bytes = max(report.peak_bytes, peak - base)
        report.end_bytes = current - base
        for r, outer_base in _host_sessions:
            r.peak_bytes = max(r.peak_bytes, peak - outer_base)
        if started:
            tracemalloc.stop()


def _fold_peak():
    """Fold tracemalloc's peak so far into every open host block, and reset it."""
    peak = tracemalloc.get_traced_memory()[1]
    for session in _host_sessions:
        session[0].peak_bytes = max(session[0].peak_bytes, peak - session[1])
    tracemalloc.reset_peak()


@contextlib.contextmanager
def untracked():
    """Leave what the block allocates out of every open host `track` block.

    For one-time costs that are not the program's: the first call of a generated kernel,
    where Numba compiles it (or loads it from the disk cache), allocates 1-40 MiB of its own
    objects; counted, they made `Budget` plan around the compiler, and with a cold kernel
    cache refuse a budget the program fits in.
    """
    if not _host_sessions:
        yield
        return
    _fold_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        yield
    finally:
        shift = tracemalloc.get_traced_memory()[0] - before
        for session in _host_sessions:
            session[1] += shift  # what the block left alive is not the program's either
        tracemalloc.reset_peak()


@contextlib.contextmanager
def _track_cuda(report):
    live = [0]

    def on_malloc(nbytes):
        live[0] += nbytes
        if live[0] > report.peak_bytes:
            report.peak_bytes = live[0]

    def on_free(nbytes):
        live[0] -= nbytes

    with backend.cupy_allocation_hook(on_malloc, on_free):
        yield report
    report.end_bytes = live[0]

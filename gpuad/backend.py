"""NumPy/CuPy selection: the only module that knows CuPy exists.

Two questions are answered here and nowhere else:

* **Which namespace does an op use?** The one its array arguments live in (`namespace`), so a
  NumPy array stays on the CPU even when CuPy is the default. Mixing a NumPy array with a CuPy
  array in one op raises `DeviceMismatchError` naming the op and both devices.
* **Where do new arrays go?** Creation functions with no array argument (`gnp.zeros`,
  `gnp.asarray` of a list, `gnp.random.*`) use the *default* backend: CuPy when it imports and a
  device answers, otherwise NumPy. `GPUAD_BACKEND=numpy|cupy` or `set_backend(...)` override it.

Elementwise ufuncs are called through NumPy's ufunc objects (`np.sin(x)`): CuPy arrays take those
calls over through `__array_ufunc__` (NEP 13), so the same call runs on the GPU without a
namespace lookup per op. Everything else asks `namespace(...)` for its `xp`.

What gpuad calls that CuPy lacks has a fallback here, so rule code never tests for CuPy: the
CuPy namespace handed out is CuPy itself plus `CUPY_FALLBACKS`, and `special_function` /
`linalg_function` compute a function `cupyx.scipy` lacks on the host. tests/test_cupy_api.py
checks every name gpuad takes from the namespace against CuPy's (tests/data/cupy_api.txt).
"""
import os
import types

import numpy as np

BACKENDS = ("numpy", "cupy")


class BackendError(RuntimeError):
    """The requested backend cannot run here (the message says why)."""


class DeviceMismatchError(ValueError):
    """An op received arrays from two devices (host and GPU)."""


class _NoCupyArray:
    """Stands in for `cupy.ndarray` until CuPy is imported, so type checks stay cheap."""


_cupy = None                 # the cupy module once imported
_cupy_ndarray = _NoCupyArray
# Array types whose elementwise ops may be recorded into fused groups (gpuad/kernels): a set
# the tape's hot path tests with one lookup; CuPy's array joins it once CuPy is imported.
FUSABLE_ARRAY_TYPES = {np.ndarray}
_probe_result = None         # (usable: bool, reason: str) once probed
_default = None              # "numpy" or "cupy" once decided


def import_cupy():
    global _cupy, _cupy_ndarray
    if _cupy is None:
        import cupy
        _cupy = with_fallbacks(cupy)
        _cupy_ndarray = cupy.ndarray
        FUSABLE_ARRAY_TYPES.add(cupy.ndarray)
    return _cupy


def on_host(fn, to_device):
    """`fn`, a NumPy function, for device arrays: its array arguments are copied to the host and
    its array results back with `to_device`. Right, but a synchronizing copy each way: only for
    what the device library lacks."""
    def run(*args, **kwargs):
        out = fn(*[to_numpy_array(a) for a in args],
                 **{k: to_numpy_array(v) for k, v in kwargs.items()})
        return tuple(map(to_device, out)) if isinstance(out, tuple) else to_device(out)
    run.__name__ = getattr(fn, "__name__", "on_host")
    return run


# Names gpuad takes from the array namespace that CuPy (14) lacks: name -> the stand-in, made
# from the cupy module on first use. Each computes what NumPy's function does, exactly.
CUPY_FALLBACKS = {
    # a constant made from numbers or small arrays: NumPy's values, copied to the device
    "geomspace": lambda cupy: on_host(np.geomspace, cupy.asarray),
    # bin edges from the data's range (two reductions): NumPy's values, copied to the device
    "histogram_bin_edges": lambda cupy: on_host(np.histogram_bin_edges, cupy.asarray),
    # a non-differentiable query of the float format: NumPy's values (float16 included, where
    # NumPy's rule is its own), copied to the device
    "spacing": lambda cupy: on_host(np.spacing, cupy.asarray),
    # CuPy has no datetime dtypes, so no element of a CuPy array is NaT
    "isnat": lambda cupy: lambda x: cupy.zeros(cupy.shape(x), bool),
}


def with_fallbacks(cupy):
    """The array namespace for CuPy arrays: the module `cupy`, where a name it lacks comes from
    `CUPY_FALLBACKS` (looked up once, then a plain attribute). Submodules (`linalg`, `fft`,
    `random`) are CuPy's own."""
    ns = types.ModuleType("gpuad.backend.cupy", "CuPy, with gpuad's fallbacks "
                                                "(gpuad.backend.CUPY_FALLBACKS)")

    def __getattr__(name):
        try:
            value = getattr(cupy, name)
        except AttributeError:
            if name not in CUPY_FALLBACKS:
                raise AttributeError(f"module 'cupy' has no attribute {name!r}, and gpuad has "
                                     f"no fallback for it (gpuad.backend.CUPY_FALLBACKS)") \
                    from None
            value = CUPY_FALLBACKS[name](cupy)
        setattr(ns, name, value)
        return value

    ns.__getattr__ = __getattr__
    return ns


def driver_cuda_version():
    """The CUDA version the NVIDIA driver supports, as (major, minor), or None without a driver.

    Asked of the driver library itself (cuDriverGetVersion), which needs no CuPy, so the probe
    can say which extra fits even where CuPy is not installed or is built for another CUDA."""
    import ctypes
    try:
        libcuda = ctypes.CDLL("libcuda.so.1")
        version = ctypes.c_int(0)
        if libcuda.cuDriverGetVersion(ctypes.byref(version)) != 0:
            return None
    except (OSError, AttributeError):
        return None
    return version.value // 1000, version.value % 1000 // 10


def install_hint(version=None):
    """Which extra to install for the GPU backend: `cuda13` (cupy-cuda13x, CuPy 14) for a CUDA
    13 driver, `cuda12` (cupy-cuda12x) for a CUDA 12 one; both when the driver cannot say.
    `version` is the driver's (major, minor), by default `driver_cuda_version()`."""
    version = driver_cuda_version() if version is None else version
    if version is None:
        return ("Install the extra `gpuad[cuda13]` (CUDA 13 driver) or `gpuad[cuda12]` (CUDA 12 "
                "driver) on a machine with an NVIDIA GPU and driver")
    extra = "cuda13" if version[0] >= 13 else "cuda12" if version[0] == 12 else None
    if extra is None:
        return (f"The NVIDIA driver supports CUDA {version[0]}.{version[1]}; gpuad's extras need "
                f"CUDA 12 (`gpuad[cuda12]`) or 13 (`gpuad[cuda13]`): update the driver")
    return (f"The NVIDIA driver supports CUDA {version[0]}.{version[1]}: install the extra "
            f"`gpuad[{extra}]` (pip install \"gpuad[{extra}]\")")


def probe_cupy():
    """Whether CuPy can run here, and why not: `(usable, reason)`.

    Importing CuPy succeeds on machines without a driver; the failure
    (`cudaErrorInsufficientDriver`, `cudaErrorNoDevice`) comes at first use. So the probe
    allocates and synchronizes one small array and treats any error as "not usable".
    """
    global _probe_result
    if _probe_result is not None:
        return _probe_result
    try:
        cupy = import_cupy()
    except Exception as exc:  # ImportError, or a broken install raising anything at import
        _probe_result = (False, f"cupy does not import ({type(exc).__name__}: {exc})")
        return _probe_result
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no CUDA device is visible")
        probe = cupy.arange(4, dtype=cupy.float32)
        float((probe * 2).sum())
        cupy.cuda.Device().synchronize()
        _probe_result = (True, "a CUDA device answered")
    except Exception as exc:  # CUDARuntimeError and friends: driver missing, no device
        _probe_result = (False, f"cupy imports but no CUDA device is usable "
                                f"({type(exc).__name__}: {exc})")
    return _probe_result


def set_backend(name):
    """Choose the default backend for arrays created without array arguments.

    Args:
      name: "numpy" or "cupy".

    Raises:
      ValueError: for any other name.
      BackendError: for "cupy" where CuPy cannot run, with the reason.
    """
    global _default
    if name not in BACKENDS:
        raise ValueError(f"set_backend: unknown backend {name!r}; use one of {BACKENDS}")
    if name == "cupy":
        usable, reason = probe_cupy()
        if not usable:
            raise BackendError(f"backend 'cupy' was requested but cannot run: {reason}. "
                               f"{install_hint()}, or use the 'numpy' backend.")
    _default = name


def get_backend():
    """The default backend's name: "cupy" or "numpy" (decided on first call)."""
    if _default is None:
        requested = os.environ.get("GPUAD_BACKEND", "").strip().lower()
        if requested:
            if requested not in BACKENDS:
                raise ValueError(f"GPUAD_BACKEND={requested!r}: use one of {BACKENDS}")
            set_backend(requested)
        else:
            set_backend("cupy" if probe_cupy()[0] else "numpy")
    return _default


def default_namespace():
    """`numpy` or `cupy`: where arrays created from nothing go."""
    return _cupy if get_backend() == "cupy" else np


def is_cupy_array(x):
    return type(x) is _cupy_ndarray or (_cupy is None and type(x).__module__.startswith("cupy"))


def namespace(*args):
    """The array namespace of the arguments: `cupy` if any is a CuPy array, else `numpy`.

    Raises DeviceMismatchError if NumPy and CuPy arrays are mixed (Python scalars mix freely).
    """
    if len(args) == 1 and type(args[0]) is np.ndarray:  # the common case, decided at once
        return np
    xp = np
    host = False
    for a in args:
        t = type(a)
        if t is np.ndarray:
            host = True
        elif t is _cupy_ndarray or (_cupy is None and t.__module__.startswith("cupy")):
            xp = import_cupy()
    if host and xp is not np and any(type(a) is np.ndarray and a.ndim > 0 for a in args):
        raise DeviceMismatchError(describe_devices(args))
    return xp


def device_of(x):
    """'cpu' for NumPy arrays and scalars, 'cuda:N' for CuPy arrays."""
    if is_cupy_array(x):
        return f"cuda:{x.device.id}"
    return "cpu"


def describe_devices(args):
    """A phrase listing the device of each array argument, for error messages."""
    parts = [f"argument {i}: {type(a).__module__.split('.')[0]} array on {device_of(a)}"
             for i, a in enumerate(args) if hasattr(a, "shape")]
    return "arrays on different devices (" + "; ".join(parts) + ")"


def check_devices(op_name, args):
    """Raise DeviceMismatchError naming `op_name` if `args` mix host and GPU arrays."""
    kinds = {device_of(a) for a in args if hasattr(a, "shape") and getattr(a, "ndim", 0) > 0}
    if len(kinds) > 1:
        raise DeviceMismatchError(
            f"{op_name}: {describe_devices(args)}. Move them to one device first with "
            f"ga.to_device(x) or ga.to_numpy(x).")


def to_numpy_array(x):
    if is_cupy_array(x):
        return x.get()
    return x


def to_device_array(x, xp=None):
    xp = xp or default_namespace()
    if isinstance(x, np.ndarray) and xp is not np:
        return xp.asarray(x)
    return x


def synchronize(xp):
    """Wait for the device to finish queued work (a no-op on NumPy); timings need it."""
    if xp is not np:
        xp.cuda.Device().synchronize()


def scatter_add(target, idx, values):
    """`target[idx] += values` in place, with repeated indices accumulating.

    NumPy spells it `np.add.at`; CuPy `cupyx.scatter_add`. Only called on arrays gpuad itself
    allocated, never on user arrays.
    """
    if is_cupy_array(target):
        import cupyx
        cupyx.scatter_add(target, idx, values)
    else:
        np.add.at(target, idx, values)


def random_stream(xp, seed, counter):
    """A generator for one draw: stream number `counter` of `seed`, on `xp`'s device.

    Each draw gets its own counter-keyed stream, so the whole random state is the pair
    (seed, counter): saving and restoring it is free on both backends (CuPy's generator states
    cannot be copied out), which is what lets `checkpoint` replay random draws exactly.
    """
    key = (int(seed) % 2**64) * 2**64 + int(counter) % 2**64
    if xp is np:
        return np.random.Generator(np.random.Philox(key=key))
    return xp.random.Generator(xp.random.Philox4x3210(seed=key))


def special_function(name, *args):
    """A special function (`erf`, `gammaln`, `iv`, ...) evaluated where the arrays live:
    `cupyx.scipy.special` for CuPy arrays; on the CPU gpuad's Numba ufuncs where
    `gpuad/cpu_special.py` has one (erf, erfc, gamma, gammaln, digamma, polygamma, xlogy,
    xlog1py: real loops only), `scipy.special` otherwise and for complex input (an optional
    dependency: the error says how to install it).

    A function cupyx.scipy.special lacks (CuPy 14: iv, ive, jv, yv, kv, kve, spence) is
    computed on the host for CuPy arrays, with a copy each way."""
    arrays = [a for a in args if hasattr(a, "shape")]
    if any(is_cupy_array(a) for a in arrays):
        import cupyx.scipy.special
        fn = getattr(cupyx.scipy.special, name, None)
        if fn is None:
            return on_host(_host_special, import_cupy().asarray)(name, *args)
        return fn(*args)
    return _host_special(name, *args)


def _host_special(name, *args):
    from . import cpu_special  # late: Numba compiles (or loads) its ufuncs on first use
    fn = getattr(cpu_special, name, None)
    if fn is None or any(np.iscomplexobj(a) for a in args):
        fn = getattr(scipy_module("special", f"special.{name}"), name)
    return fn(*args)


def scipy_module(submodule, op_name):
    """`scipy.<submodule>` for the CPU rules, or an ImportError naming `op_name` and the fix.

    SciPy is an optional dependency (the extra `gpuad[scipy]`): importing gpuad.scipy never
    needs it; only calling a function that has no SciPy-free CPU implementation does.
    """
    import importlib
    try:
        return importlib.import_module(f"scipy.{submodule}")
    except ImportError as exc:
        raise ImportError(
            f"{op_name} needs SciPy on the CPU (scipy.{submodule}), which is not installed "
            f"({exc}). Install it with `pip install scipy` (or `pip install gpuad[scipy]`).") \
            from None


def linalg_function(name, *args, **kwargs):
    """A `scipy.linalg` function evaluated where the arrays live: `cupyx.scipy.linalg` for CuPy
    arrays, `scipy.linalg` (optional dependency) on the CPU."""
    arrays = [a for a in args if hasattr(a, "shape")]
    if any(is_cupy_array(a) for a in arrays):
        import cupyx.scipy.linalg
        fn = getattr(cupyx.scipy.linalg, name, None)
        if fn is None:  # not in this CuPy: on the host, with a copy each way
            return on_host(_host_linalg(name), import_cupy().asarray)(*args, **kwargs)
        return fn(*args, **kwargs)
    return _host_linalg(name)(*args, **kwargs)


def _host_linalg(name):
    return getattr(scipy_module("linalg", f"linalg.{name}"), name)


def cupy_allocation_hook(on_malloc, on_free):
    """A context manager that reports every CuPy device allocation and release as
    `on_malloc(nbytes)` / `on_free(nbytes)` (CuPy's memory hooks see the pool's traffic, which
    NumPy-side tools such as tracemalloc cannot).

    Each hook has a name of its own: CuPy refuses (KeyError) to enter a hook whose name is
    already in use, which nested `gpuad.memory.track("cuda")` blocks would be."""
    import_cupy()
    from cupy.cuda import memory_hook

    class _Hook(memory_hook.MemoryHook):
        def __init__(self):
            self.name = f"gpuad-memory-{id(self)}"

        def malloc_postprocess(self, device_id, size, mem_size, mem_ptr, pmem_id):
            on_malloc(mem_size)

        def free_postprocess(self, device_id, mem_size, mem_ptr, pmem_id):
            on_free(mem_size)

    return _Hook()


def side_stream():
    """A CUDA stream of its own, for copies that overlap compute."""
    return import_cupy().cuda.Stream(non_blocking=True)


def copy_to_pinned(x, stream):
    """Start copying device array `x` into fresh pinned host memory on `stream`; returns the
    host array (valid once `stream` is synchronized)."""
    cupy = import_cupy()
    memory = cupy.cuda.alloc_pinned_memory(x.nbytes)
    host = np.frombuffer(memory, x.dtype, x.size).reshape(x.shape)
    stream.wait_event(cupy.cuda.get_current_stream().record())  # x is complete first
    x.get(out=host, stream=stream)
    return host


def copy_from_pinned(host, stream):
    """A device array with the contents of a host array filled by `copy_to_pinned`."""
    stream.synchronize()
    return import_cupy().asarray(host)


def launch_cuda(kernel, n, args, threads=256):
    """Launch a numba.cuda kernel over `n` elements on CuPy's current stream."""
    from numba import cuda
    cupy = import_cupy()
    stream = cuda.external_stream(cupy.cuda.get_current_stream().ptr)
    blocks = min(max(1, (n + threads - 1) // threads), 65535)
    kernel[blocks, threads, stream](*args)

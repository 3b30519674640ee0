"""Backend choice: probing CuPy safely, overrides, device mixing errors, data movement."""
import re
import types
from pathlib import Path

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad import backend


@pytest.fixture
def fresh_backend(monkeypatch):
    monkeypatch.setattr(backend, "_default", None)
    monkeypatch.setattr(backend, "_probe_result", None)
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_ndarray", backend._NoCupyArray)
    return monkeypatch


def _fake_cupy(device_count_error=None):
    class CUDARuntimeError(RuntimeError):
        pass

    def get_device_count():
        if device_count_error:
            raise CUDARuntimeError(device_count_error)
        return 1

    runtime = types.SimpleNamespace(getDeviceCount=get_device_count)
    cuda = types.SimpleNamespace(runtime=runtime)
    return types.SimpleNamespace(cuda=cuda, ndarray=type("ndarray", (), {}))


def test_cupy_missing_falls_back_to_numpy(fresh_backend):
    def no_cupy():
        raise ImportError("No module named 'cupy'")
    fresh_backend.setattr(backend, "import_cupy", no_cupy)
    fresh_backend.delenv("GPUAD_BACKEND", raising=False)
    assert backend.get_backend() == "numpy"
    assert backend.default_namespace() is np
    with pytest.raises(backend.BackendError, match="does not import"):
        ga.set_backend("cupy")


def test_cupy_without_driver_falls_back_silently(fresh_backend):
    fake = _fake_cupy("cudaErrorInsufficientDriver: CUDA driver version is insufficient")
    fresh_backend.setattr(backend, "import_cupy", lambda: fake)
    fresh_backend.delenv("GPUAD_BACKEND", raising=False)
    assert backend.get_backend() == "numpy"
    with pytest.raises(backend.BackendError, match="cudaErrorInsufficientDriver"):
        ga.set_backend("cupy")


@pytest.mark.parametrize("version, extra", [((13, 0), "gpuad[cuda13]"), ((13, 2), "gpuad[cuda13]"),
                                            ((12, 4), "gpuad[cuda12]"), ((11, 8), "update the driver"),
                                            (None, "gpuad[cuda13]` (CUDA 13 driver) or `gpuad[cuda12]")])
def test_the_probe_names_the_extra_for_the_drivers_cuda(fresh_backend, version, extra):
    fresh_backend.setattr(backend, "import_cupy", lambda: _fake_cupy("cudaErrorNoDevice"))
    fresh_backend.setattr(backend, "driver_cuda_version", lambda: version)
    with pytest.raises(backend.BackendError, match=re.escape(extra)):
        ga.set_backend("cupy")


def test_both_gpu_extras_are_declared():
    tomllib = pytest.importorskip("tomllib")
    with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    assert extras["cuda13"][0].startswith("cupy-cuda13x") and "numba-cuda[cu13]" in extras["cuda13"]
    assert extras["cuda12"][0].startswith("cupy-cuda12x") and "numba-cuda[cu12]" in extras["cuda12"]


def test_environment_override(fresh_backend):
    fresh_backend.setenv("GPUAD_BACKEND", "numpy")
    assert backend.get_backend() == "numpy"
    fresh_backend.setattr(backend, "_default", None)
    fresh_backend.setenv("GPUAD_BACKEND", "tpu")
    with pytest.raises(ValueError, match="GPUAD_BACKEND"):
        backend.get_backend()


def test_unknown_backend_name():
    with pytest.raises(ValueError, match="unknown backend"):
        ga.set_backend("jax")


class FakeGpuArray:
    """Stands in for a CuPy array: a module named cupy, a device, no NumPy conversion."""
    __module__ = "cupy"
    __array_ufunc__ = None
    shape = (3,)
    ndim = 1
    dtype = np.dtype(np.float64)
    device = types.SimpleNamespace(id=0)


def test_mixing_devices_names_the_op_and_devices(fresh_backend):
    fresh_backend.setattr(backend, "_cupy_ndarray", FakeGpuArray)
    fresh_backend.setattr(backend, "_cupy", types.SimpleNamespace())
    with pytest.raises(backend.DeviceMismatchError, match=r"add:.*numpy array on cpu.*cuda:0"):
        gnp.add(np.ones(3), FakeGpuArray())
    with pytest.raises(backend.DeviceMismatchError, match="matmul"):
        gnp.matmul(np.ones((3, 3)), FakeGpuArray())


def test_numpy_arrays_stay_numpy(rng):
    x = rng.standard_normal(3)
    assert type(gnp.sin(x)) is np.ndarray
    assert type(ga.grad(lambda x: gnp.sum(x ** 2))(x)) is np.ndarray


def test_to_numpy_and_to_device_on_numpy_backend(rng):
    tree = {"a": rng.standard_normal(2), "b": [1.0, None]}
    assert ga.to_numpy(tree)["a"] is tree["a"]
    moved = ga.to_device(tree)
    np.testing.assert_array_equal(moved["a"], tree["a"])


@pytest.mark.gpu
def test_cupy_arrays_stay_on_device_and_match_numpy(rng):
    import cupy
    x = rng.standard_normal((4, 3))
    xd = cupy.asarray(x)
    f = lambda x: gnp.sum(gnp.tanh(x @ x.T) ** 2) + gnp.linalg.norm(x)
    g = ga.grad(f)(xd)
    assert isinstance(g, cupy.ndarray)
    np.testing.assert_allclose(g.get(), ga.grad(f)(x), rtol=1e-10)


# ---- fallbacks for what CuPy lacks, forced on NumPy ---------------------------------------------
class OnDevice:
    """What a fake device's `asarray` returns: the host value, marked as moved."""

    def __init__(self, value):
        self.value = value


def test_namespace_fallback_computes_numpy_values_and_moves_them(rng):
    fake = types.SimpleNamespace(asarray=OnDevice, sin=np.sin)  # a CuPy without geomspace
    xp = backend.with_fallbacks(fake)
    assert xp.sin is np.sin  # what the module has is its own
    start, stop = rng.uniform(1, 2), rng.uniform(-300, -100)
    out = xp.geomspace(-start, stop, 7, endpoint=False)
    assert type(out) is OnDevice
    np.testing.assert_array_equal(out.value, np.geomspace(-start, stop, 7, endpoint=False))
    with pytest.raises(AttributeError, match="no attribute 'logspace'.*CUPY_FALLBACKS"):
        _ = xp.logspace


def test_host_fallback_moves_array_arguments_and_tuple_results(monkeypatch, rng):
    x = rng.standard_normal(5)
    monkeypatch.setattr(backend, "to_numpy_array", lambda a: a.value if type(a) is OnDevice else a)
    split = backend.on_host(lambda a, *, n: (a[:n], a[n:]), OnDevice)
    head, tail = split(OnDevice(x), n=OnDevice(2))
    np.testing.assert_array_equal(head.value, x[:2])
    np.testing.assert_array_equal(tail.value, x[2:])


@pytest.fixture
def fake_cupyx(monkeypatch):
    """NumPy arrays taken for CuPy arrays, and a cupyx whose special and linalg have one
    function each (marked, so the test can tell which path ran)."""
    special = types.ModuleType("cupyx.scipy.special")
    special.erf = lambda x: ("device erf", x)
    linalg = types.ModuleType("cupyx.scipy.linalg")
    linalg.solve_triangular = lambda *a, **k: "device solve_triangular"
    scipy = types.ModuleType("cupyx.scipy")
    scipy.special, scipy.linalg = special, linalg
    cupyx = types.ModuleType("cupyx")
    cupyx.scipy = scipy
    for name, module in [("cupyx", cupyx), ("cupyx.scipy", scipy),
                         ("cupyx.scipy.special", special), ("cupyx.scipy.linalg", linalg)]:
        monkeypatch.setitem(__import__("sys").modules, name, module)
    monkeypatch.setattr(backend, "is_cupy_array", lambda a: type(a) is np.ndarray)
    monkeypatch.setattr(backend, "to_numpy_array", lambda a: a)  # already on the host
    monkeypatch.setattr(backend, "import_cupy", lambda: types.SimpleNamespace(asarray=OnDevice))


def test_special_function_cupyx_lacks_runs_on_the_host(fake_cupyx, rng):
    scipy_special = pytest.importorskip("scipy.special")
    x = rng.uniform(0.5, 3.0, 4)
    assert backend.special_function("erf", x)[0] == "device erf"
    out = backend.special_function("iv", 1.5, x)
    assert type(out) is OnDevice
    np.testing.assert_allclose(out.value, scipy_special.iv(1.5, x), rtol=1e-15)


def test_linalg_function_cupyx_lacks_runs_on_the_host(fake_cupyx, rng):
    scipy_linalg = pytest.importorskip("scipy.linalg")
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    assert backend.linalg_function("solve_triangular", a, a[0]) == "device solve_triangular"
    out = backend.linalg_function("expm", a)
    assert type(out) is OnDevice
    np.testing.assert_allclose(out.value, scipy_linalg.expm(a), rtol=1e-14)


def test_nested_cuda_memory_blocks_each_count(monkeypatch):
    """CuPy refuses to enter a memory hook whose name is taken (KeyError): nested
    `memory.track("cuda")` blocks need a hook name each. A fake `cupy.cuda.memory_hook` with
    CuPy's registry rules stands in for the device."""
    import sys

    import gpuad.memory
    hooks = {}

    class MemoryHook:
        name = "MemoryHook"

        def __enter__(self):
            if self.name in hooks:
                raise KeyError(f"memory hook {self.name} already exists")
            hooks[self.name] = self
            return self

        def __exit__(self, *_):
            del hooks[self.name]

    def allocate(nbytes):
        for hook in list(hooks.values()):
            hook.malloc_postprocess(device_id=0, size=nbytes, mem_size=nbytes, mem_ptr=1, pmem_id=1)

    def release(nbytes):
        for hook in list(hooks.values()):
            hook.free_postprocess(device_id=0, mem_size=nbytes, mem_ptr=1, pmem_id=1)

    memory_hook = types.ModuleType("cupy.cuda.memory_hook")
    memory_hook.MemoryHook = MemoryHook
    cuda = types.ModuleType("cupy.cuda")
    cuda.memory_hook = memory_hook
    cupy = types.ModuleType("cupy")
    cupy.cuda = cuda
    for name, module in [("cupy", cupy), ("cupy.cuda", cuda), ("cupy.cuda.memory_hook", memory_hook)]:
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(backend, "import_cupy", lambda: cupy)
    with gpuad.memory.track("cuda") as outer:
        allocate(512)
        with gpuad.memory.track("cuda") as inner:
            allocate(1024)
            release(1024)
        release(512)
    assert (outer.peak_bytes, outer.end_bytes) == (1536, 0)
    assert (inner.peak_bytes, inner.end_bytes) == (1024, 0)
    assert not hooks


# ---- the device paths of this module (GPU only) -------------------------------------------------
@pytest.fixture
def cupy_default(monkeypatch):
    """CuPy as the default backend for one test."""
    import cupy
    monkeypatch.setattr(backend, "_default", backend._default)
    ga.set_backend("cupy")
    return cupy


@pytest.mark.gpu
def test_fallback_names_run_on_device(cupy_default):
    cupy = cupy_default
    out = gnp.geomspace(2.0, 250.0, 6)  # CuPy 14 has no geomspace: backend.CUPY_FALLBACKS
    assert isinstance(out, cupy.ndarray)
    np.testing.assert_allclose(out.get(), np.geomspace(2.0, 250.0, 6), rtol=1e-15)
    f = lambda s: gnp.sum(gnp.geomspace(s, 250.0, 6) ** 2)  # noqa: E731 (the traced path)
    g = ga.grad(f)(cupy.asarray(2.0))
    assert isinstance(g, cupy.ndarray)
    np.testing.assert_allclose(g.get(), ga.grad(f)(np.asarray(2.0)), rtol=1e-12)


@pytest.mark.gpu
def test_nested_memory_tracks_on_device():
    import cupy

    import gpuad.memory
    with gpuad.memory.track("cuda") as outer:
        a = cupy.ones(1 << 20, cupy.float32)  # 4 MiB
        with gpuad.memory.track("cuda") as inner:
            b = cupy.ones(1 << 21, cupy.float32)  # 8 MiB
            del b
        del a
    assert inner.peak_bytes >= 8 << 20 and inner.end_bytes == 0
    assert outer.peak_bytes >= 12 << 20 and outer.end_bytes == 0


@pytest.mark.gpu
def test_pinned_copies_round_trip_views(rng):
    import cupy
    x = cupy.asarray(rng.standard_normal((3, 5)))[:, 1:4]  # a strided view, as a carry can be
    stream = backend.side_stream()
    host = backend.copy_to_pinned(x, stream)
    back = backend.copy_from_pinned(host, stream)
    assert isinstance(back, cupy.ndarray)
    np.testing.assert_array_equal(back.get(), x.get())


@pytest.mark.gpu
def test_random_draws_on_device_replay(cupy_default):
    cupy = cupy_default
    saved = gnp.random.get_state()
    try:
        gnp.random.seed(3)
        state = gnp.random.get_state()
        draws = [gnp.random.normal(size=(4, 5), dtype=np.float32), gnp.random.uniform(size=7),
                 gnp.random.randint(0, 10, size=6), gnp.random.exponential(size=3),
                 gnp.random.permutation(5)]
        assert all(isinstance(d, cupy.ndarray) for d in draws)
        assert draws[0].dtype == np.float32 and draws[1].dtype == np.float64
        assert draws[2].min() >= 0 and draws[2].max() < 10
        assert sorted(draws[4].get().tolist()) == list(range(5))
        gnp.random.set_state(state)
        again = [gnp.random.normal(size=(4, 5), dtype=np.float32), gnp.random.uniform(size=7)]
        for a, b in zip(again, draws):
            np.testing.assert_array_equal(a.get(), b.get())
    finally:
        gnp.random.set_state(saved)

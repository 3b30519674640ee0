"""Backend choice: probing CuPy safely, overrides, device mixing errors, data movement."""
import types

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
    fresh_backend.setattr(backend, "_import_cupy", no_cupy)
    fresh_backend.delenv("GPUAD_BACKEND", raising=False)
    assert backend.get_backend() == "numpy"
    assert backend.default_namespace() is np
    with pytest.raises(backend.BackendError, match="does not import"):
        ga.set_backend("cupy")


def test_cupy_without_driver_falls_back_silently(fresh_backend):
    fake = _fake_cupy("cudaErrorInsufficientDriver: CUDA driver version is insufficient")
    fresh_backend.setattr(backend, "_import_cupy", lambda: fake)
    fresh_backend.delenv("GPUAD_BACKEND", raising=False)
    assert backend.get_backend() == "numpy"
    with pytest.raises(backend.BackendError, match="cudaErrorInsufficientDriver"):
        ga.set_backend("cupy")


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

"""Kernel source generation (`gpuad.kernels.codegen`): the emitted source, the compiled
kernels' numbers against finite differences, the caches."""
import os
import textwrap

import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.kernels import backward, codegen
from gpuad.kernels.group import CONST, IN, VALUE
from gpuad.trace import PRIMITIVES

from .chains import fuse_small_arrays  # noqa: F401 (fixture)


def _forms(*names):
    for name in names:
        assert codegen.register_forms(PRIMITIVES[name]) is not None, name


def _docstring_sample():
    """The indented block after the docstring's `::` line, dedented."""
    doc = codegen.__doc__
    start = doc.index("::\n") + 3
    return textwrap.dedent(doc[start:]).strip("\n") + "\n"


def test_docstring_sample_is_what_codegen_emits(monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return kernel(*args, **kwargs)

    kernel = codegen.kernel
    monkeypatch.setattr(backward, "kernel", spy)
    x, y = np.linspace(0.1, 1.0, 8), np.linspace(1.0, 2.0, 8)
    gx, gy = ga.grad(lambda x, y: gnp.sum(gnp.sin(x) * y), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.cos(x) * y, rtol=1e-14)
    np.testing.assert_allclose(gy, np.sin(x), rtol=1e-14)
    assert len(calls) == 1, "the sample's gradient no longer runs one fused kernel"
    (target, structure, n_inputs, n_consts, escapes, wanted, dtype_name, ndim, precomputed,
     uniform), kwargs = calls[0]
    source = codegen.cpu_source("KERNEL", structure, n_inputs, n_consts, escapes, wanted, ndim,
                                dtype_name, precomputed, uniform, **kwargs)
    assert target == "cpu"
    assert source == _docstring_sample(), (
        "codegen's docstring sample is stale: paste this source into it\n" + source)


# tanh(x0 * c0) * x1 + x0, with v0 used twice: exercises constants, a value feeding two
# instructions (accumulated adjoint), an input read twice (accumulated cotangent)
STRUCTURE = (("multiply", ((IN, 0), (CONST, None))),
             ("tanh", ((VALUE, 0),)),
             ("multiply", ((VALUE, 1), (IN, 1))),
             ("add", ((VALUE, 2), (IN, 0))))
C = 0.7


def _forward(x0, x1):
    return np.tanh(x0 * C) * x1 + x0


@pytest.fixture(scope="module")
def compiled():
    _forms("multiply", "tanh", "add")
    return codegen.kernel("cpu", STRUCTURE, 2, 1, [3], [0, 1], "float64", ndim=2,
                          parallel=False)


def test_compiled_kernel_matches_finite_differences(compiled):
    rng = np.random.default_rng(0)
    x0, x1, g = (rng.standard_normal((3, 4)) for _ in range(3))
    out0, out1 = np.empty((3, 4)), np.empty((3, 4))
    compiled(x0, x1, g, C, out0, out1)
    eps = 1e-6  # elementwise: the derivative of each element is its own central difference
    d0 = (_forward(x0 + eps, x1) - _forward(x0 - eps, x1)) / (2 * eps)
    d1 = (_forward(x0, x1 + eps) - _forward(x0, x1 - eps)) / (2 * eps)
    np.testing.assert_allclose(out0, g * d0, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(out1, g * d1, rtol=1e-7, atol=1e-9)


def test_compiled_kernel_reads_broadcast_views(compiled):
    # inputs may be broadcast views (stride 0 along an axis): a (1, 4) row and a 0-d value
    rng = np.random.default_rng(1)
    row, g = rng.standard_normal((1, 4)), rng.standard_normal((3, 4))
    x1 = np.float64(1.5)
    out0, out1 = np.empty((3, 4)), np.empty((3, 4))
    compiled(np.broadcast_to(row, (3, 4)), np.broadcast_to(x1, (3, 4)), g, C, out0, out1)
    t = np.tanh(row * C)
    np.testing.assert_allclose(out0, g * ((1 - t ** 2) * C * x1 + 1), rtol=1e-13)
    np.testing.assert_allclose(out1, g * t, rtol=1e-13)


def test_kernels_are_cached_by_structure(compiled):
    again = codegen.kernel("cpu", STRUCTURE, 2, 1, [3], [0, 1], "float64", ndim=2,
                           parallel=False)
    assert again is compiled
    other = codegen.kernel("cpu", STRUCTURE, 2, 1, [3], [0, 1], "float64", ndim=2,
                           parallel=False, uniform=(3,))
    assert other is not compiled  # a scalar cotangent is another signature


def test_source_accumulates_adjoints_and_cotangents():
    _forms("multiply", "tanh", "add")
    src = codegen.cpu_source("K", STRUCTURE, 2, 1, [3], [0, 1], 1, "float64", parallel=False)
    lines = [line.strip() for line in src.splitlines()]
    assert "def K(in0, in1, g3, c0, out0, out1):" in lines
    assert "v0 = (x0 * c0)" in lines
    # x0 is read by two instructions: its cotangent is started once and then accumulated
    assert sum(line.startswith("d0 = ") for line in lines) == 1
    assert sum(line.startswith("d0 += ") for line in lines) == 1
    # tanh's derivative is written with its result: the kernel reuses v1, no second tanh
    assert sum("math.tanh" in line for line in lines) == 1
    assert lines.index("out0[i0] = d0") < lines.index("out1[i0] = d1")
    compile(src, "<kernel>", "exec")  # valid Python


def test_source_reuses_forward_values_in_derivatives():
    # sin' = cos(x0) is v1 and cos' = -sin(x0) is -v0: the derivatives call no libm
    _forms("sin", "cos")
    structure = (("sin", ((IN, 0),)), ("cos", ((IN, 0),)))
    lines = codegen.body_lines(structure, [0, 1], [0], lambda kind, j: f"{kind}{j}",
                               lambda j, expr: f"out{j} = {expr}")
    assert lines[:3] == ["x0 = in0", "v0 = math.sin(x0)", "v1 = math.cos(x0)"]
    assert "d0 = a1 * ((-v0))" in lines and "d0 += a0 * (v1)" in lines
    assert not any("math." in line for line in lines[3:])


def test_unwanted_and_unused_inputs():
    # an input nobody differentiates gets no cotangent; a wanted input that no instruction
    # reads gets a zero
    _forms("multiply")
    structure = (("multiply", ((IN, 0), (IN, 1))),)
    lines = codegen.body_lines(structure, [0], [0, 2], lambda kind, j: f"{kind}{j}",
                               lambda j, expr: f"out{j} = {expr}")
    assert "out0 = d0" in lines and "out2 = 0.0" in lines
    assert not any(line.startswith("d1") for line in lines)


def test_float32_literals_are_typed():
    assert codegen.typed_literals("v1 = (x0 * 0.5) + 2.0", "float64") == \
        "v1 = (x0 * 0.5) + 2.0"
    # literals become the kernel's float type; names that contain digits stay untouched
    assert codegen.typed_literals("v10 = (x1 * 0.5) + 1e3 + 2.5e-3", "float32") == \
        "v10 = (x1 * F(0.5)) + 1e3 + F(2.5e-3)"


def test_cuda_source_is_a_grid_stride_loop():
    _forms("multiply", "tanh", "add")
    src = codegen.cuda_source("K", STRUCTURE, 2, 1, [3], [0, 1], "float32")
    assert "@cuda.jit" in src and "F = numba.float32" in src
    assert "for i in range(start, out0.shape[0], stride):" in src
    assert "numba.prange" not in src
    assert "a0 = a1 * ((F(1.0) - (v1 * v1)))" in [line.strip() for line in src.splitlines()]
    compile(src, "<kernel>", "exec")


def test_uses_libm():
    _forms("sin", "multiply")
    assert codegen.uses_libm("sin")
    assert not codegen.uses_libm("multiply")


def test_cache_dir_from_environment_and_read_only_fallback(monkeypatch, tmp_path):
    try:
        monkeypatch.setenv("GPUAD_CACHE_DIR", str(tmp_path / "k"))
        codegen.cache_dir.cache_clear()
        assert codegen.cache_dir() == str(tmp_path / "k")
        assert os.path.isdir(tmp_path / "k")
        assert os.listdir(tmp_path / "k") == []  # the write probe is removed
        blocker = tmp_path / "file"
        blocker.write_text("")  # a directory cannot be made under a file
        monkeypatch.setenv("GPUAD_CACHE_DIR", str(blocker / "k"))
        codegen.cache_dir.cache_clear()
        fallback = codegen.cache_dir()
        assert fallback != str(blocker / "k") and os.path.isdir(fallback)
    finally:
        monkeypatch.undo()
        codegen.cache_dir.cache_clear()

"""`import gpuad` loads the core only; submodules are attributes loaded on first use (PEP 562)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAZY = ("checkpoint", "distributed", "memory", "nn", "optim", "tasks", "tree_util", "scipy",
        "test_util")


def _run(code):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.split()


def test_import_gpuad_loads_no_lazy_submodule_nor_numba_or_scipy():
    loaded = _run("import sys, gpuad\n"
                  "print(*[m for m in sys.modules if m in ('numba', 'scipy', 'llvmlite') or "
                  f"m.split('.')[1:2] and m.split('.')[1] in {LAZY!r} and m.startswith('gpuad.')])")
    assert loaded == []


@pytest.mark.parametrize("name", LAZY)
def test_each_submodule_is_an_attribute_after_import_gpuad(name):
    out = _run(f"import gpuad as ga, importlib\n"
               f"print(ga.{name} is importlib.import_module('gpuad.{name}'), '{name}' in dir(ga))")
    assert out == ["True", "True"]


def test_lazy_names_and_unknown_attributes():
    import gpuad as ga
    from gpuad.checkpoint import RecomputationMismatchError
    from gpuad.test_util import check_grads
    assert ga.RecomputationMismatchError is RecomputationMismatchError
    assert ga.check_grads is check_grads
    assert ga.optim.adam and ga.tree_util.tree_map and ga.checkpoint.scan
    with pytest.raises(AttributeError, match="module 'gpuad' has no attribute 'no_such_thing'"):
        ga.no_such_thing

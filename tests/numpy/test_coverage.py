"""docs/numpy_coverage.md is current, and every NumPy name gpuad leaves out says why
(gpuad/numpy/_coverage.py, gpuad/numpy/unsupported.py)."""
import re

import numpy as np
import pytest

import gpuad.numpy as gnp
from gpuad.numpy import _coverage
from gpuad.numpy.unsupported import REASONS


def _committed():
    return _coverage.PATH.read_text()


def test_committed_table_is_current():
    committed = _committed()
    version = re.search(r"Generated from NumPy (\d+\.\d+)", committed).group(1)
    installed = ".".join(np.__version__.split(".")[:2])
    if version != installed:
        pytest.skip(f"the table was generated from NumPy {version}; NumPy {installed} is "
                    f"installed (its namespace differs)")
    assert _coverage.table() == committed, (
        "docs/numpy_coverage.md is out of date: regenerate it with "
        "`python -m gpuad.numpy._coverage --write` and commit the result")


def test_every_unsupported_name_has_a_reason():
    missing = [f"{section}.{name}" for section, np_module, gnp_module in _coverage.SECTIONS
               for name, _, status, note in _coverage.rows(section, np_module, gnp_module)
               if status == "not supported" and note == _coverage.NO_REASON]
    assert not missing, f"add a reason to gpuad/numpy/unsupported.py for: {missing}"


def test_reasons_are_only_given_for_names_left_out():
    modules = {"": gnp, "linalg": gnp.linalg, "fft": gnp.fft, "random": gnp.random,
               "emath": gnp.emath}
    for key in REASONS:
        prefix, _, name = key.rpartition(".")
        assert not hasattr(modules[prefix], name), f"{key} exists: remove its reason"


def test_an_unsupported_name_raises_with_its_reason():
    assert not hasattr(gnp, "matrix")
    with pytest.raises(AttributeError, match=r"gpuad.numpy.matrix is not supported: numpy.matrix"):
        _ = gnp.matrix
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        _ = gnp.no_such_name


def test_statuses_are_read_off_the_objects():
    rows = {r[0]: r[1:] for r in _coverage.rows("numpy", np, gnp)}
    assert rows["sin"][1] == "supported"
    assert rows["argwhere"][1] == "pass-through"
    assert rows["broadcast_shapes"][1] == "pass-through"
    assert rows["float64"][:2] == ("dtype", "supported")
    assert rows["memmap"][1] == "not supported"
    assert "row_stack" not in rows

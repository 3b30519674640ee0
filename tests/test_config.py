"""debug_nans: the first op with a NaN, forward or backward, is named with its tape position."""
import numpy as np
import pytest

import gpuad as ga
import gpuad.numpy as gnp
from gpuad.config import Config


def test_forward_nan_names_op_and_position():
    ga.config.debug_nans = True
    with pytest.raises(FloatingPointError, match=r"log \(tape position 1\).*forward"):
        with np.errstate(invalid="ignore"):
            ga.grad(lambda x: gnp.sum(gnp.log(x * 1.0)))(np.array([1.0, -1.0]))


def test_backward_nan_names_op():
    ga.config.debug_nans = True
    # sqrt(0) * 0 is fine forward; backward multiplies 0 by sqrt's infinite slope.
    with pytest.raises(FloatingPointError, match=r"sqrt.*cotangent"):
        with np.errstate(invalid="ignore", divide="ignore"):
            ga.grad(lambda x: gnp.sum(gnp.sqrt(x) * 0.0))(np.array([0.0, 1.0]))


def test_off_by_default_lets_nans_through():
    with np.errstate(invalid="ignore", divide="ignore"):
        g = ga.grad(lambda x: gnp.sum(gnp.sqrt(x) * 0.0))(np.array([0.0, 1.0]))
    assert np.isnan(g[0])


def test_environment_variables(monkeypatch):
    monkeypatch.setenv("GPUAD_DEBUG_NANS", "1")
    monkeypatch.setenv("GPUAD_FUSION", "off")
    c = Config()
    assert c.debug_nans is True and c.fusion is False
    monkeypatch.setenv("GPUAD_FUSION", "maybe")
    with pytest.raises(ValueError, match="GPUAD_FUSION"):
        Config()


def test_recompute_check_values_and_environment(monkeypatch):
    assert Config().recompute_check == "auto"
    monkeypatch.setenv("GPUAD_RECOMPUTE_CHECK", "Exact")
    assert Config().recompute_check == "exact"
    monkeypatch.setenv("GPUAD_RECOMPUTE_CHECK", "allclose")
    assert Config().recompute_check == "allclose"
    monkeypatch.setenv("GPUAD_RECOMPUTE_CHECK", "strict")
    with pytest.raises(ValueError, match="GPUAD_RECOMPUTE_CHECK='strict': expected one of "
                                         "auto, exact, allclose, off"):
        Config()
    for value in ("off", "exact", "allclose", "auto"):
        ga.config.recompute_check = value
        assert ga.config.recompute_check == value
    for bad in ("on", True, None):
        with pytest.raises(ValueError, match="config.recompute_check=.*expected one of"):
            ga.config.recompute_check = bad
    assert ga.config.recompute_check == "auto" and "recompute_check='auto'" in repr(ga.config)

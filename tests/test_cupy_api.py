"""Every name gpuad takes from the array namespace exists in CuPy, or has a fallback.

gpuad's side is found statically (tests/cupy_api.py walks gpuad/'s AST); CuPy's side is the
list tests/data/cupy_api.txt, generated from an installed CuPy, so no CuPy is needed here. A
failure names each missing function and where gpuad calls it.
"""
import functools

import numpy as np
import pytest

import gpuad.numpy as gnp
from gpuad import backend
from gpuad.numpy import fft

from . import cupy_api

REGENERATE = ("if CuPy does have it, regenerate tests/data/cupy_api.txt from a newer CuPy: "
              "`pip install --target /tmp/cupy cupy-cuda13x cuda-pathfinder && "
              "PYTHONPATH=/tmp/cupy:. python tests/cupy_api.py --write`")

# Sites whose name is computed at run time -> the names they can take. A new dynamic site
# fails `test_dynamic_sites_are_known` until its names are added here.
DYNAMIC_SITES = {
    "gpuad/numpy/fft.py:_impl": [f"cupy.fft.{kind}" for kind in fft._KINDS],
    "gpuad/numpy/index_tricks.py:__getitem__": [f"cupy.{c.name}" for c in (gnp.r_, gnp.c_)],
    "gpuad/numpy/shaping.py:__getitem__": [f"cupy.{g.name}" for g in (gnp.mgrid, gnp.ogrid)],
}

# NumPy functions gpuad calls that CuPy lacks, at sites that only ever see host arrays (on CuPy
# arrays NumPy would hand the call to CuPy's function of the same name, NEP 13/18).
HOST_ONLY_NUMPY = {
    "insert": "manipulation.insert runs np.insert on host arrays of element numbers",
    "geomspace": "backend.CUPY_FALLBACKS runs it on host copies, for CuPy, which lacks it",
    "histogram_bin_edges": "backend.CUPY_FALLBACKS runs it on host copies, for CuPy, which lacks it",
    "spacing": "backend.CUPY_FALLBACKS runs it on host copies, for CuPy, which lacks it",
    "einsum_path": "indices.einsum_path plans on zero-size host stand-ins of the operands' shapes",
}

# Functions behind backend.special_function / linalg_function that cupyx lacks are computed on
# the host there (tests/test_backend.py forces that path on NumPy).
HOST_FALLBACK_PREFIXES = ("cupyx.scipy.special.", "cupyx.scipy.linalg.")


@functools.cache
def _scan():
    return cupy_api.gpuad_calls()


def _listed():
    return cupy_api.read_list()[1]


def _called():
    calls = {name: sites for name, sites in _scan()["names"].items()}
    for site, names in DYNAMIC_SITES.items():
        for name in names:
            calls.setdefault(name, []).append(site)
    return calls


def test_the_scan_sees_each_way_gpuad_reaches_the_namespace():
    """Names reached through each pattern the scan follows (if one of these disappears, the
    scan has stopped seeing that pattern, not gpuad stopped calling it)."""
    names = _scan()["names"]
    for name in ("cupy.linalg.svd",          # _xp(raw).linalg.svd
                 "cupy.random.Philox4x3210",  # xp.random... in backend
                 "cupy.argmax",               # _np_fn("argmax"): getattr in a closure
                 "cupy.zeros_like",           # _like("zeros_like")
                 "cupy.tril_indices",         # creation's own _np_fn
                 "cupyx.scipy.special.erf",   # _special("erf") -> _call -> special_function
                 "cupyx.scipy.linalg.solve_triangular"):
        assert name in names, name


def test_every_name_gpuad_calls_exists_in_cupy():
    version, listed = cupy_api.read_list()
    missing = {name: sites for name, sites in _called().items()
               if name not in listed and not name.startswith(HOST_FALLBACK_PREFIXES)
               and not (name.startswith("cupy.") and name[5:] in backend.CUPY_FALLBACKS)}
    assert not missing, (
        f"gpuad calls through the array namespace what CuPy {version} lacks:\n"
        + "\n".join(f"  {name} (at {', '.join(sites)})" for name, sites in sorted(missing.items()))
        + "\nGive each a fallback in gpuad/backend.py (CUPY_FALLBACKS, or a backend helper the "
          f"call site uses); {REGENERATE}")


def test_dynamic_sites_are_known():
    found = set(_scan()["dynamic_sites"])
    assert found == set(DYNAMIC_SITES), (
        f"sites that take a name from the namespace at run time changed: new "
        f"{sorted(found - set(DYNAMIC_SITES))}, gone {sorted(set(DYNAMIC_SITES) - found)}; list "
        f"the names each can take in DYNAMIC_SITES")


def test_each_fallback_is_for_a_name_cupy_lacks_and_gpuad_calls():
    listed, called = _listed(), _called()
    for name in backend.CUPY_FALLBACKS:
        assert f"cupy.{name}" not in listed, f"CuPy has {name} now: drop its fallback"
        assert f"cupy.{name}" in called, f"gpuad no longer calls xp.{name}: drop its fallback"


def test_numpy_functions_that_reach_cupy_exist_there():
    """`np.<name>(x)` on a CuPy array runs `cupy.<name>` (a ufunc through `__array_ufunc__`, a
    dispatched function through `__array_function__`); a name CuPy lacks raises TypeError."""
    listed = _listed()
    missing = {}
    for name, sites in _scan()["numpy_calls"].items():
        try:
            obj = functools.reduce(getattr, name.split("."), np)
        except AttributeError:
            continue  # removed from NumPy: the CPU tests fail there already
        dispatched = isinstance(obj, np.ufunc) or hasattr(obj, "_implementation")
        if dispatched and f"cupy.{name}" not in listed and name not in HOST_ONLY_NUMPY:
            missing[name] = sites
    assert not missing, (
        "gpuad calls NumPy functions that CuPy lacks; on CuPy arrays they raise TypeError:\n"
        + "\n".join(f"  np.{name} (at {', '.join(sites)})" for name, sites in sorted(missing.items()))
        + "\nCall them on host data only (and list the site in HOST_ONLY_NUMPY, saying why), or "
          f"through the namespace with a fallback; {REGENERATE}")


def test_the_list_names_its_cupy_version():
    version, listed = cupy_api.read_list()
    assert version and int(version.split(".")[0]) >= 14
    assert {"cupy.sin", "cupy.linalg.svd", "cupy.ndarray.get",
            "cupyx.scipy.special.erf"} <= listed


@pytest.mark.parametrize("name", sorted(HOST_ONLY_NUMPY))
def test_host_only_numpy_calls_are_still_made(name):
    assert name in _scan()["numpy_calls"], f"np.{name} is no longer called: drop it"

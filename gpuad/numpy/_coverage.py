"""The coverage table: every public name of NumPy's main namespace, numpy.linalg, numpy.fft,
numpy.random and numpy.emath, and what gpuad.numpy does with it. Writes docs/numpy_coverage.md:

    python -m gpuad.numpy._coverage --write     # or without --write: print it

The status is read off the objects, not kept by hand:

* supported: gpuad has its own version (differentiable, or a constant result such as the
  creation functions), or re-exports NumPy's own class, dtype, constant or module;
* pass-through: no derivative; traced arguments are read by their primal values (functions
  declared with `gpuad.trace.nondiff` or `define.passthrough`, and NumPy's own functions of
  shapes and dtypes);
* not supported: gpuad has no such name; the reason comes from gpuad/numpy/unsupported.py
  (a missing reason shows as "no reason recorded", which tests/numpy/test_coverage.py refuses).

Left out: private names, names NumPy deprecates (DEPRECATED below) and platform-dependent
dtype aliases (PLATFORM_DEPENDENT), which gpuad re-exports where NumPy has them.
"""
import pathlib
import sys
import types

import numpy as np

import gpuad.numpy as gnp

from ..trace import nondiff
from .unsupported import REASONS

SECTIONS = (("numpy", np, gnp), ("numpy.linalg", np.linalg, gnp.linalg),
            ("numpy.fft", np.fft, gnp.fft), ("numpy.random", np.random, gnp.random),
            ("numpy.emath", np.emath, gnp.emath))
DEPRECATED = {"numpy.row_stack": "deprecated in NumPy 2.0 (gpuad has it, warning likewise)",
              "numpy.core": "deprecated in NumPy 2.0 (renamed numpy._core)",
              "numpy.random.random_integers": "deprecated since NumPy 1.11 (RandomState has it)"}
PLATFORM_DEPENDENT = ("float96", "float128", "complex192", "complex256")
PATH = pathlib.Path(__file__).resolve().parents[2] / "docs" / "numpy_coverage.md"
NO_REASON = "no reason recorded"
_NONDIFF_CODE = nondiff(len).__code__


def _kind(obj):
    if isinstance(obj, types.ModuleType):
        return "module"
    if isinstance(obj, type):
        return "dtype" if issubclass(obj, np.generic) else "class"
    if callable(obj):
        return "function"
    return "constant"


def _summary(obj):
    """The first sentence of a gpuad docstring, for the note column."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    line = " ".join(doc.split("\n\n")[0].split())
    end = line.find(". ")
    line = line if end < 0 else line[:end + 1]
    return line.replace("|", "\\|")


def classify(section, name, np_module, gnp_module):
    """(kind, status, note) of one NumPy name."""
    np_obj = getattr(np_module, name)
    kind = _kind(np_obj)
    qualified = name if section == "numpy" else f"{section[len('numpy.'):]}.{name}"
    try:
        obj = getattr(gnp_module, name)
    except AttributeError:
        return kind, "not supported", REASONS.get(qualified, NO_REASON)
    if obj is np_obj:
        if kind == "function":
            return kind, "pass-through", "NumPy's own (it takes shapes, dtypes or functions)"
        return kind, "supported", f"NumPy's own {kind}"
    if isinstance(obj, types.ModuleType):
        return kind, "supported", f"`gnp.{name}`: see its section" if name in (
            "linalg", "fft", "random", "emath") else f"`{obj.__name__}`"
    if getattr(obj, "__code__", None) is _NONDIFF_CODE:
        wrapped = getattr(obj, "__wrapped__", None)
        own = wrapped is not None and wrapped.__doc__ == np_obj.__doc__
        note = "" if own else _summary(obj)
        return kind, "pass-through", note or "NumPy's function on the primal values"
    return kind, "supported", _summary(obj)


def rows(section, np_module, gnp_module):
    for name in sorted(n for n in dir(np_module) if not n.startswith("_")):
        if f"{section}.{name}" in DEPRECATED or name in PLATFORM_DEPENDENT:
            continue
        yield (name, *classify(section, name, np_module, gnp_module))


def table():
    """The markdown text of docs/numpy_coverage.md."""
    major_minor = ".".join(np.__version__.split(".")[:2])
    body, counts = [], []
    for section, np_module, gnp_module in SECTIONS:
        section_rows = list(rows(section, np_module, gnp_module))
        tally = {s: sum(r[2] == s for r in section_rows)
                 for s in ("supported", "pass-through", "not supported")}
        counts.append((section, tally))
        body += [f"## {section}", "", "| name | kind | status | note |", "|---|---|---|---|"]
        body += [f"| `{n}` | {k} | {s} | {note} |" for n, k, s, note in section_rows]
        body.append("")
    total = {s: sum(t[s] for _, t in counts) for s in counts[0][1]}
    head = [
        "# NumPy coverage of gpuad.numpy",
        "",
        (f"Generated from NumPy {major_minor} by `python -m gpuad.numpy._coverage --write`; "
         "do not edit. `tests/numpy/test_coverage.py` checks that it is current."),
        "",
        ("*supported*: gpuad's own version (differentiable, or a constant result), or NumPy's "
         "own class, dtype, constant or module. *pass-through*: no derivative; traced arguments "
         "are read by their primal values. *not supported*: `gnp.<name>` raises AttributeError "
         "with the reason given here."),
        "",
        "| section | supported | pass-through | not supported |",
        "|---|---|---|---|",
    ]
    head += [f"| {sec} | {t['supported']} | {t['pass-through']} | {t['not supported']} |"
             for sec, t in counts + [("total", total)]]
    deprecated = "; ".join(f"`{k}`: {v}" for k, v in DEPRECATED.items())
    platform = ", ".join(f"`{n}`" for n in PLATFORM_DEPENDENT)
    head += ["", (f"Left out: private names; names NumPy deprecates ({deprecated}); the "
                  f"platform-dependent dtype aliases {platform} (re-exported where NumPy has "
                  f"them)."), ""]
    return "\n".join(head + body)


def main(argv):
    text = table()
    if "--write" in argv:
        PATH.write_text(text)
        print(f"wrote {PATH}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])

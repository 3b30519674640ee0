"""CuPy's public names, and the names gpuad calls through the array namespace.

Two halves, used by tests/test_cupy_api.py:

* `cupy_names()` lists the public names of the CuPy modules gpuad reaches (the `cupy`
  namespace, its linalg, fft and random, `cupy.ndarray`'s and `cupy.random.Generator`'s
  attributes, and the `cupyx.scipy` modules behind `backend.special_function` and
  `backend.linalg_function`) from an installed CuPy. The list is kept in
  tests/data/cupy_api.txt so that CI needs no CuPy (a CuPy import also changes the backend
  probing of every other test). Regenerate it where CuPy imports (no GPU needed):

      pip install --target /tmp/cupy cupy-cuda13x cuda-pathfinder   # never the shared env
      PYTHONPATH=/tmp/cupy:. python tests/cupy_api.py --write

  A module that does not import (CuPy loads cuBLAS or cuSPARSE at import of some cupyx.scipy
  modules, which a machine without the CUDA libraries lacks) is read from its source instead:
  the names its `__init__.py` imports and defines; the file header says which.

* `gpuad_calls()` finds, by walking the AST of gpuad/, every name gpuad takes from the array
  namespace: `xp.<name>`, `xp.linalg.<name>` ... where `xp` is a variable or attribute of that
  name, or a call of `backend.namespace`, `backend.default_namespace` or a function returning
  one of them (`_xp`, `_default`); `getattr(<namespace>, "<name>")`; names handed to factories
  that end in such a `getattr` (`_np_fn("argmax")`) or in `backend.special_function` /
  `backend.linalg_function` (-> `cupyx.scipy.special.<name>`, `cupyx.scipy.linalg.<name>`).
  Sites whose name is computed at run time are returned apart (`dynamic_sites`), so the test
  can say which names they take. It also lists the `np.<name>` functions gpuad calls
  (`numpy_calls`): on CuPy arrays, NumPy hands ufuncs and dispatched functions to CuPy's
  function of the same name (NEP 13 and 18), so those must exist in CuPy too.

`python tests/cupy_api.py` (no argument) prints what gpuad calls that the list lacks
(`GPUAD_CUPY_API_LIST=FILE` reads another list, for this and for tests/test_cupy_api.py).
"""
import argparse
import ast
import importlib
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "gpuad")
LIST = os.path.join(ROOT, "tests", "data", "cupy_api.txt")

# modules and classes whose public attributes are listed
MODULES = ("cupy", "cupy.linalg", "cupy.fft", "cupy.random", "cupy.cuda", "cupy.cuda.runtime",
           "cupyx",
           "cupyx.scipy.special", "cupyx.scipy.linalg", "cupyx.scipy.signal",
           "cupyx.scipy.ndimage", "cupyx.scipy.stats", "cupyx.scipy.fft")
CLASSES = ("cupy.ndarray", "cupy.random.Generator")

# ---- the CuPy side ------------------------------------------------------------------------------


def _public(names):
    return sorted(n for n in names if not n.startswith("_"))


def _source_file(module_name):
    """The file of a module, found without importing its parent packages."""
    top, *rest = module_name.split(".")
    path = os.path.join(importlib.util.find_spec(top).submodule_search_locations[0], *rest)
    if os.path.isdir(path):
        return os.path.join(path, "__init__.py"), module_name
    return path + ".py", module_name.rpartition(".")[0]


def _source_names(module_name, seen=None):
    """The public names a module's source imports or defines (for modules that do not import)."""
    seen = set() if seen is None else seen
    if module_name in seen:
        return set()
    seen.add(module_name)
    path, package = _source_file(module_name)
    with open(path) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    base = importlib.util.resolve_name("." * node.level + (node.module or ""),
                                                       package)
                    names |= _source_names(base, seen)
                else:
                    names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return set(_public(names))


def _lazy_names(module_name):
    """Names a module makes on first access through a module `__getattr__` (`cupy.random`'s
    Generator, cupy.cuda's cublas): the strings its `__getattr__` compares the key with."""
    path = _source_file(module_name)[0]
    if not os.path.exists(path):  # compiled (cupy.cuda.runtime)
        return set()
    with open(path) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            for c in ast.walk(node):
                if isinstance(c, ast.Compare):
                    names.update(k.value for side in [c.left] + c.comparators
                                 for k in ast.walk(side)
                                 if isinstance(k, ast.Constant) and isinstance(k.value, str))
    return set(_public(names))


def _import(module_name):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError:  # an attribute of its package, not a file (cupy.cuda.runtime)
        parent, _, name = module_name.rpartition(".")
        return getattr(importlib.import_module(parent), name)


def cupy_names():
    """`(version, {qualified name}, [modules read from source])` from the installed CuPy."""
    import cupy
    names, from_source = set(), []
    for module_name in MODULES:
        try:
            module = _import(module_name)
            found = set(_public(dir(module))) | _lazy_names(module_name)
        except Exception:  # ImportError, or a CUDA library's init failing without the library
            found = _source_names(module_name)
            from_source.append(module_name)
        names.update(f"{module_name}.{n}" for n in found)
        names.add(module_name)
    for class_name in CLASSES:
        module_name, _, attr = class_name.rpartition(".")
        cls = getattr(importlib.import_module(module_name), attr)
        names.update(f"{class_name}.{n}" for n in _public(dir(cls)))
    return cupy.__version__, names, from_source


def write_list(path=LIST):
    version, names, from_source = cupy_names()
    header = [f"# The public names of CuPy {version} that gpuad may call (tests/cupy_api.py).",
              "# Regenerate with an installed CuPy (no GPU needed), never in the shared env:",
              "#   pip install --target /tmp/cupy cupy-cuda13x cuda-pathfinder",
              "#   PYTHONPATH=/tmp/cupy:. python tests/cupy_api.py --write",
              f"# cupy-version: {version}"]
    if from_source:
        header.append(f"# read from source (did not import here): {', '.join(from_source)}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(header + sorted(names)) + "\n")
    return version, len(names)


def read_list(path=None):
    """`(version, {qualified name})` from a list written by `write_list`: tests/data/cupy_api.txt,
    or the file `GPUAD_CUPY_API_LIST` names (benchmarks/gpu/run_all.sh checks gpuad's calls
    against the CuPy installed on the GPU machine so)."""
    path = path or os.environ.get("GPUAD_CUPY_API_LIST") or LIST
    version, names = None, set()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("# cupy-version:"):
                version = line.split(":", 1)[1].strip()
            elif line and not line.startswith("#"):
                names.add(line)
    return version, names


# ---- the gpuad side -----------------------------------------------------------------------------

NAMESPACE_FUNCTIONS = {"namespace", "default_namespace"}  # backend's: they return numpy or cupy
NAMESPACE_NAMES = {"xp": "cupy", "_cupy": "cupy", "cupy": "cupy", "cupyx": "cupyx"}
HELPER_SINKS = {"special_function": "cupyx.scipy.special", "linalg_function": "cupyx.scipy.linalg"}


def _called_name(call):
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


class _Module:
    """One parsed file, with each node's parent and enclosing function."""

    def __init__(self, path):
        self.path = os.path.relpath(path, ROOT)
        with open(path) as f:
            self.tree = ast.parse(f.read(), path)
        self.parent = {}
        self.imported = {a.asname or a.name for node in ast.walk(self.tree)
                         if isinstance(node, ast.ImportFrom) for a in node.names}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node

    def enclosing(self, node, kinds=(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        node = self.parent.get(node)
        while node is not None and not isinstance(node, kinds):
            node = self.parent.get(node)
        return node


def _modules():
    for folder, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith(".py"):
                yield _Module(os.path.join(folder, name))


def _namespace_functions(modules):
    """Names of functions (anywhere in gpuad) that return an array namespace."""
    found = set(NAMESPACE_FUNCTIONS) | {"import_cupy"}
    changed = True
    while changed:
        changed = False
        for m in modules:
            for node in ast.walk(m.tree):
                if isinstance(node, ast.FunctionDef) and node.name not in found and any(
                        isinstance(r, ast.Return) and r.value is not None
                        and _is_namespace(r.value, found, {}) for r in ast.walk(node)):
                    found.add(node.name)
                    changed = True
    return found


def _is_namespace(expr, functions, local):
    """The root CuPy module `expr` stands for ('cupy', 'cupyx'), or None."""
    if isinstance(expr, ast.Name):
        return NAMESPACE_NAMES.get(expr.id) or local.get(expr.id)
    if isinstance(expr, ast.Attribute) and expr.attr == "xp":  # meta.xp
        return "cupy"
    if isinstance(expr, ast.Call) and _called_name(expr) in functions:
        return "cupy"
    if isinstance(expr, ast.IfExp):
        return _is_namespace(expr.body, functions, local) or _is_namespace(expr.orelse, functions,
                                                                             local)
    return None


def _chain(expr, functions, local):
    """`'cupy.linalg.svd'` for `xp.linalg.svd`, None where `expr` is not rooted at a namespace."""
    parts = []
    while isinstance(expr, ast.Attribute):
        root = _is_namespace(expr, functions, local) if expr.attr == "xp" else None
        if root:
            break
        parts.append(expr.attr)
        expr = expr.value
    root = _is_namespace(expr, functions, local)
    return ".".join([root] + parts[::-1]) if root and parts else None


def _locals(function, functions):
    """Variables of one function assigned an array namespace (`xp = _xp(raw)`)."""
    local = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            root = _is_namespace(node.value, functions, local)
            if root:
                local[node.targets[0].id] = root
    return local


def gpuad_calls():
    """What gpuad takes from the array namespace, statically.

    Returns a dict: `names` {qualified CuPy name: [file:line, ...]}; `dynamic_sites`
    {"file:function": [file:line, ...]} for names computed at run time; `numpy_calls`
    {numpy name: [file:line, ...]} for every `np.<name>` gpuad uses.
    """
    modules = list(_modules())
    functions = _namespace_functions(modules)
    names, dynamic, numpy_calls = {}, {}, {}
    factories = {}  # (file, function) -> position of the argument that names what it calls
    pending = []    # (module, call, sink prefix, name expression)

    def add(table, key, m, node):
        table.setdefault(key, []).append(f"{m.path}:{node.lineno}")

    for m in modules:
        scopes = {}
        for node in ast.walk(m.tree):
            fn = m.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            if fn not in scopes:
                scopes[fn] = _locals(fn, functions) if fn is not None else {}
            local = scopes[fn]
            if isinstance(node, ast.Attribute) and not (
                    isinstance(m.parent.get(node), ast.Attribute)
                    and m.parent[node].value is node):
                chain = _chain(node, functions, local)
                if chain and chain.rsplit(".", 1)[-1].startswith("__"):
                    chain = None  # a module's own attribute (`xp.__name__`), not an API name
                if chain:
                    add(names, chain, m, node)
                elif _chain_root_is_numpy(node):
                    add(numpy_calls, _numpy_chain(node), m, node)
            if isinstance(node, ast.Call):
                called = _called_name(node)
                if called == "getattr" and len(node.args) >= 2:
                    prefix = _chain(node.args[0], functions, local) \
                        if isinstance(node.args[0], ast.Attribute) \
                        else _is_namespace(node.args[0], functions, local)
                    if prefix:
                        pending.append((m, node, prefix, node.args[1]))
                elif called in HELPER_SINKS and node.args and m.path != "gpuad/backend.py":
                    pending.append((m, node, HELPER_SINKS[called], node.args[0]))
    # names flowing into a sink: constants, or parameters that make their function a factory
    while pending:
        m, node, prefix, arg = pending.pop()
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            add(names, f"{prefix}.{arg.value}", m, node)
            continue
        fn = owner = m.enclosing(node, (ast.FunctionDef,))
        lam = m.enclosing(node, (ast.Lambda,))
        if isinstance(arg, ast.Name) and not (lam is not None and arg.id in [
                a.arg for a in lam.args.args + lam.args.kwonlyargs]):
            # the function whose parameter it is: this one, or one it is nested in (a closure)
            while owner is not None and arg.id not in [a.arg for a in owner.args.args]:
                owner = m.enclosing(owner, (ast.FunctionDef,))
        else:
            owner = None
        if owner is not None:
            if (m.path, owner.name) not in factories:
                position = [a.arg for a in owner.args.args].index(arg.id)
                factories[m.path, owner.name] = position
                for m2 in modules:
                    if m2 is not m and owner.name not in m2.imported:
                        continue
                    for call in ast.walk(m2.tree):
                        if isinstance(call, ast.Call) and _called_name(call) == owner.name \
                                and len(call.args) > position:
                            pending.append((m2, call, prefix, call.args[position]))
            continue
        where = f"{m.path}:{fn.name if fn is not None else '<module>'}"
        add(dynamic, where, m, node)
    return {"names": names, "dynamic_sites": dynamic, "numpy_calls": numpy_calls}


def _chain_root_is_numpy(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id in ("np", "_np")


def _numpy_chain(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join(parts[::-1])


# ---- command line -------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help=f"regenerate {os.path.relpath(LIST, ROOT)} from the installed CuPy")
    parser.add_argument("--out", help="write the list here instead (with --write)")
    args = parser.parse_args(argv)
    if args.write:
        version, count = write_list(args.out or LIST)
        print(f"wrote {count} names of CuPy {version} to {args.out or LIST}")
        return 0
    version, listed = read_list()
    calls = gpuad_calls()
    missing = sorted(n for n in calls["names"] if n not in listed)
    print(f"gpuad takes {len(calls['names'])} names from the namespace; CuPy {version} lacks "
          f"{len(missing)} (gpuad/backend.py has fallbacks for those tests/test_cupy_api.py "
          f"accepts):")
    for name in missing:
        print(f"  {name}: {', '.join(calls['names'][name])}")
    print("sites whose name is computed at run time (tests/test_cupy_api.py lists their names):")
    for site, lines in sorted(calls["dynamic_sites"].items()):
        print(f"  {site}: {', '.join(lines)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Why each NumPy name that gpuad.numpy does not provide is left out, keyed by its name in
NumPy (`"linalg.test"` for numpy.linalg.test).

`gnp.<name>` raises AttributeError with the reason, and docs/numpy_coverage.md lists it
(gpuad/numpy/_coverage.py writes that table and refuses a missing name without a reason here).
"""
_FILES_IN = ("reads data into a host NumPy array: call numpy.{name}, then gnp.asarray(...) to "
             "put the result on the default backend")
_FILES_OUT = "writes files: call numpy.{name} on the values, ga.to_numpy(x)"
_CALENDAR = "calendar and datetime arithmetic, not array math: call numpy.{name} on plain arrays"
_TOOLING = "about the NumPy installation: call numpy.{name}"
_STRINGS = ("string and record arrays have no derivatives and no CuPy form: use numpy.{name} "
            "on plain arrays")
_MATRIX = ("numpy.matrix, which NumPy discourages: gpuad arrays are plain arrays (use 2-D "
           "arrays and @)")
_BIT_GENERATORS = ("a bit generator: gnp.random draws from counter-keyed Philox streams, whose "
                   "state is a (seed, counter) pair (gnp.random.get_state)")

REASONS = {
    "asmatrix": _MATRIX, "bmat": _MATRIX, "matrix": _MATRIX,
    "broadcast": ("an iterator over broadcast values: use gnp.broadcast_shapes for the shape and "
                  "gnp.broadcast_arrays for the values"),
    "busday_count": _CALENDAR, "busday_offset": _CALENDAR, "busdaycalendar": _CALENDAR,
    "is_busday": _CALENDAR, "datetime_as_string": _CALENDAR, "datetime_data": _CALENDAR,
    "char": _STRINGS, "strings": _STRINGS, "rec": _STRINGS, "recarray": _STRINGS,
    "core": "NumPy's implementation package, deprecated in NumPy 2.0 (renamed numpy._core)",
    "ctypeslib": "an interface to C code, which needs NumPy arrays in memory: use numpy.ctypeslib",
    "f2py": "NumPy's Fortran wrapper generator: use numpy.f2py",
    "flatiter": "an iterator that writes into its array: use gnp.ravel(x) and indexing",
    "from_dlpack": ("makes an array from another library's: call numpy.from_dlpack or "
                    "cupy.from_dlpack, then gnp.asarray"),
    "frombuffer": _FILES_IN, "fromfile": _FILES_IN, "fromiter": _FILES_IN,
    "fromregex": _FILES_IN, "fromstring": _FILES_IN, "genfromtxt": _FILES_IN, "load": _FILES_IN,
    "loadtxt": _FILES_IN,
    "memmap": "a file-backed array written in place: use numpy.memmap, then gnp.asarray",
    "save": _FILES_OUT, "savetxt": _FILES_OUT, "savez": _FILES_OUT,
    "savez_compressed": _FILES_OUT,
    "frompyfunc": "makes object arrays of Python results: use gnp.vectorize",
    "get_include": _TOOLING, "info": _TOOLING, "show_config": _TOOLING,
    "show_runtime": _TOOLING, "test": _TOOLING,
    "lib": "NumPy's implementation namespace: its public functions are in gnp itself",
    "ma": ("masked arrays: use gnp.where with the mask, or the nan-functions (gnp.nansum, "
           "gnp.nanmean...) with NaN for masked values"),
    "nditer": "an iterator with writable operands: use gnp.ndindex or gnp.ndenumerate",
    "nested_iters": "iterators with writable operands: use gnp.ndindex or gnp.ndenumerate",
    "poly1d": ("the polynomial class: use the functions on coefficient arrays (gnp.polyval, "
               "polyadd, polymul, polydiv, polyder, polyint, polyfit, roots)"),
    "polynomial": ("the numpy.polynomial package of polynomial classes: use gnp's functions on "
                   "coefficient arrays (polyval, polyfit, roots...)"),
    "testing": "assertions on NumPy arrays: use numpy.testing on the values, ga.to_numpy(x)",
    "typing": "type annotations for NumPy arrays: use numpy.typing",
    "ufunc": ("gpuad's elementwise functions are functions, not ufunc objects: no .reduce, "
              ".accumulate, .outer or .at (use gnp.sum, gnp.cumsum, gnp.outer, x.at[i].add)"),
    "linalg.test": _TOOLING, "fft.test": _TOOLING, "random.test": _TOOLING,
    "random.BitGenerator": _BIT_GENERATORS, "random.MT19937": _BIT_GENERATORS,
    "random.PCG64": _BIT_GENERATORS, "random.PCG64DXSM": _BIT_GENERATORS,
    "random.Philox": _BIT_GENERATORS, "random.SFC64": _BIT_GENERATORS,
    "random.SeedSequence": _BIT_GENERATORS, "random.bit_generator": _BIT_GENERATORS,
    "random.get_bit_generator": _BIT_GENERATORS, "random.set_bit_generator": _BIT_GENERATORS,
    "random.mtrand": "NumPy's legacy implementation module: gnp.random.RandomState is its class",
}
REASONS = {name: reason.format(name=name) for name, reason in REASONS.items()}

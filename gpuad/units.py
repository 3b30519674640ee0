"""Byte counts as people write them: `parse_bytes("512MB")`, `format_bytes(3 * 2**30)`.

On the ground floor (no gpuad imports): `memory`, `checkpoint` and `experiment` all print or
read byte counts."""
import re

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "k": 10**3, "m": 10**6,
          "g": 10**9}


def parse_bytes(value):
    """An int number of bytes from an int, or a string like "512MB", "2GiB", "1.5 gb", "300000".
    Raises ValueError naming the accepted form."""
    if isinstance(value, bool):
        raise TypeError("a byte count must be an int or a string such as '512MB', not a bool")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"a byte count must be positive, got {value}")
        return value
    if isinstance(value, float):
        return parse_bytes(int(value))
    if not isinstance(value, str):
        raise TypeError(f"a byte count must be an int or a string such as '512MB', got "
                        f"{type(value).__name__}")
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", value)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(f"cannot read {value!r} as a byte count; write a number with an "
                         f"optional unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, "
                         f"TiB (powers of 1024), e.g. '512MB' or '2GiB'")
    result = int(float(match.group(1)) * _UNITS[unit])
    if result <= 0:
        raise ValueError(f"a byte count must be positive, got {value!r}")
    return result


def format_bytes(n):
    """`n` bytes in the largest binary unit that keeps it >= 1 (e.g. '1.50 GiB')."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} TiB"

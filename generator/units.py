"""Memory sizes, CPU amounts and durations: parse what people write, emit one canonical form."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Flink reads a duration as a long of its unit and most options as a long of milliseconds
# (Duration.toMillis), a memory size as a long of bytes: what a Java long cannot hold, Flink cannot read.
JAVA_LONG_MAX = (1 << 63) - 1
# CPU amounts are whole millicores (Kubernetes' resolution) of at most MAX_CPU cores: far beyond any
# node, and Kubernetes quantities, VVP and Flink all hold it exactly.
MAX_CPU = 1000

_MEMORY_UNITS = {
    "": 1,
    "b": 1,
    "bytes": 1,
    "k": 1 << 10,
    "kb": 1 << 10,
    "kib": 1 << 10,
    "kibibytes": 1 << 10,
    "m": 1 << 20,
    "mb": 1 << 20,
    "mib": 1 << 20,
    "mebibytes": 1 << 20,
    "g": 1 << 30,
    "gb": 1 << 30,
    "gib": 1 << 30,
    "gibibytes": 1 << 30,
    "t": 1 << 40,
    "tb": 1 << 40,
    "tib": 1 << 40,
    "tebibytes": 1 << 40,
}
_NUMBER_UNIT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Zµ]*)\s*$")


class UnitError(ValueError):
    """A value that is not a valid size, CPU amount or duration; the message says what is."""


def parse_memory(value: object) -> int:
    """Bytes in ``value``: ``4g``, ``2048m``, ``1.5 GiB``, ``512 mb`` (base 2, as Flink reads them)."""
    if isinstance(value, bool):
        raise UnitError("expected a memory size such as 4g or 2048m, got a boolean")
    if isinstance(value, int):
        if value <= 0:
            raise UnitError("a memory size must be positive")
        return value
    if not isinstance(value, str):
        raise UnitError(f"expected a memory size such as 4g or 2048m, got {type(value).__name__}")
    match = _NUMBER_UNIT.match(value)
    if not match or match.group(2).lower() not in _MEMORY_UNITS:
        raise UnitError(
            f"'{value}' is not a memory size: write a number with a unit, e.g. 4g, 2048m or 1.5 GiB "
            "(units b, k, m, g, t; kb/mb/gb and KiB/MiB/GiB mean the same, base 2)"
        )
    number = Decimal(match.group(1))
    nbytes = number * _MEMORY_UNITS[match.group(2).lower()]
    if nbytes != nbytes.to_integral_value():
        raise UnitError(f"'{value}' is not a whole number of bytes")
    if nbytes <= 0:
        raise UnitError("a memory size must be positive")
    return int(nbytes)


def format_memory(nbytes: int) -> str:
    """Canonical text of a size: the largest unit that divides it exactly (``16g``, ``1536m``)."""
    for unit, factor in (("t", 1 << 40), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
        if nbytes % factor == 0:
            return f"{nbytes // factor}{unit}"
    return f"{nbytes}b"


def normalize_memory(value: object) -> str:
    """A Flink memory option in its canonical form; refused beyond a Java long of bytes (8 EiB)."""
    nbytes = parse_memory(value)
    if nbytes > JAVA_LONG_MAX:
        raise UnitError(
            f"'{value}' is more than Flink can hold: a memory size is at most {JAVA_LONG_MAX} bytes (8 EiB)"
        )
    return format_memory(nbytes)


def parse_cpu(value: object) -> float:
    """CPU cores: a number (``0.5``, ``4``) or Kubernetes millicores (``500m``), at most ``MAX_CPU``
    cores and, from one millicore up, in whole millicores (below that, callers' minimums refuse it)."""
    if isinstance(value, bool):
        raise UnitError("expected a CPU amount such as 0.5, 2 or 500m, got a boolean")
    if isinstance(value, int | float):
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            exact = Decimal(text[:-1]) / 1000 if text.endswith("m") else Decimal(text)
        except InvalidOperation:
            raise UnitError(f"'{value}' is not a CPU amount: write cores (0.5, 2) or millicores (500m)") from None
    else:
        raise UnitError(f"expected a CPU amount such as 0.5, 2 or 500m, got {type(value).__name__}")
    if not exact.is_finite():  # .nan and .inf are YAML floats; Decimal reads "nan" and "inf" too
        raise UnitError(f"'{value}' is not a CPU amount: write cores (0.5, 2) or millicores (500m)")
    if exact <= 0:
        raise UnitError("a CPU amount must be positive")
    if exact > MAX_CPU:
        raise UnitError(f"{value} is more than the maximum of {MAX_CPU} CPUs")
    millicores = exact * 1000
    if millicores >= 1 and millicores != millicores.to_integral_value():
        raise UnitError(
            f"{value} is not a whole number of millicores (1m = 0.001 CPU, the finest amount Kubernetes "
            f"takes): write e.g. {_millicores_text(millicores)}"
        )
    return float(exact)


def _millicores_text(millicores: Decimal) -> str:
    rounded = int(millicores.to_integral_value())
    return f"{rounded}m" if rounded % 1000 else str(rounded // 1000)


def format_cpu(cores: float) -> float | int:
    """The one form of a CPU amount: whole cores as an integer, else cores to the millicore."""
    if float(cores).is_integer():
        return int(cores)
    return round(cores, 3) if cores >= 0.001 else cores  # below 1m: left for the minimum to refuse


# Flink's TimeUtils units; we emit the short canonical spelling of the unit the user chose.
_DURATION_UNITS = {
    "ns": ("ns", Decimal("1e-6")),
    "nano": ("ns", Decimal("1e-6")),
    "nanos": ("ns", Decimal("1e-6")),
    "nanosecond": ("ns", Decimal("1e-6")),
    "nanoseconds": ("ns", Decimal("1e-6")),
    "us": ("us", Decimal("1e-3")),
    "µs": ("us", Decimal("1e-3")),
    "micro": ("us", Decimal("1e-3")),
    "micros": ("us", Decimal("1e-3")),
    "microsecond": ("us", Decimal("1e-3")),
    "microseconds": ("us", Decimal("1e-3")),
    "ms": ("ms", Decimal(1)),
    "milli": ("ms", Decimal(1)),
    "millis": ("ms", Decimal(1)),
    "millisecond": ("ms", Decimal(1)),
    "milliseconds": ("ms", Decimal(1)),
    "s": ("s", Decimal(1000)),
    "sec": ("s", Decimal(1000)),
    "secs": ("s", Decimal(1000)),
    "second": ("s", Decimal(1000)),
    "seconds": ("s", Decimal(1000)),
    "min": ("min", Decimal(60_000)),
    "mins": ("min", Decimal(60_000)),
    "minute": ("min", Decimal(60_000)),
    "minutes": ("min", Decimal(60_000)),
    "m": ("min", Decimal(60_000)),
    "h": ("h", Decimal(3_600_000)),
    "hour": ("h", Decimal(3_600_000)),
    "hours": ("h", Decimal(3_600_000)),
    "d": ("d", Decimal(86_400_000)),
    "day": ("d", Decimal(86_400_000)),
    "days": ("d", Decimal(86_400_000)),
}


def _split_duration(value: object) -> tuple[int, str, Decimal]:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise UnitError(f"expected a duration such as 60s or 10min, got {type(value).__name__}")
    if isinstance(value, int):
        if value < 0:
            raise UnitError("a duration cannot be negative")
        amount, canonical, factor = value, "ms", Decimal(1)
    else:
        match = _NUMBER_UNIT.match(value)
        unit = match.group(2).lower() if match else ""
        if not match or "." in match.group(1) or (unit and unit not in _DURATION_UNITS):
            raise UnitError(
                f"'{value}' is not a duration: write a whole number with a unit, e.g. 500ms, 30s, 10min, 1h, 1d"
            )
        canonical, factor = _DURATION_UNITS[unit] if unit else ("ms", Decimal(1))
        amount = int(match.group(1))
    if amount > JAVA_LONG_MAX or amount * factor > JAVA_LONG_MAX:
        raise UnitError(
            f"'{value}' is longer than Flink can hold: a duration is at most {JAVA_LONG_MAX} ms "
            "(about 292 million years)"
        )
    return amount, canonical, factor


def parse_duration_ms(value: object) -> float:
    """Milliseconds in a Flink duration (``10 s``, ``10min``, ``500`` = 500 ms)."""
    amount, _, factor = _split_duration(value)
    return float(amount * factor)


def normalize_duration(value: object) -> str:
    """Same duration in Flink's compact spelling: ``10 minutes`` -> ``10min``, ``30 s`` -> ``30s``."""
    amount, unit, _ = _split_duration(value)
    return f"{amount}{unit}"

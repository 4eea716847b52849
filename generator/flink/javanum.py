"""Java's number semantics, as far as Flink's memory calculation depends on them.

Flink parses, multiplies and prints memory figures with Java's types: ``long`` bytes, fractions
read by ``Float.parseFloat`` and widened to ``double``, ``BigDecimal`` products and Java's text
forms of a ``double``. Each helper here reproduces one of those behaviours exactly:

* ``LONG_MAX``: ``Long.MAX_VALUE``;
* ``JAVA_WHITESPACE``: the characters ``String.trim()`` removes (every char <= U+0020);
* :func:`java_double_str`: ``Double.toString``;
* :func:`format_decimal_3`: ``String.format("%.3f", double)``;
* :func:`big_decimal_product`: ``BigDecimal.valueOf(long).multiply(BigDecimal.valueOf(double))``;
* :func:`parse_java_float`: ``(double) Float.parseFloat(text)``.
"""

from __future__ import annotations

import decimal
import math
import re
import struct
from decimal import Decimal

__all__ = [
    "JAVA_WHITESPACE",
    "LONG_MAX",
    "big_decimal_product",
    "format_decimal_3",
    "java_double_str",
    "parse_java_float",
]

LONG_MAX = 2**63 - 1

# Java's String.trim() removes every char <= U+0020.
JAVA_WHITESPACE = "".join(chr(i) for i in range(33))

_EXACT = decimal.Context(prec=100, rounding=decimal.ROUND_DOWN, Emax=10**6, Emin=-(10**6))


# ----------------------------------------------------------------------------------------------
# Double.toString, %.3f, BigDecimal products
# ----------------------------------------------------------------------------------------------


def java_double_str(value: float) -> str:
    """``Double.toString``: shortest round-trip digits, Java's plain/scientific layout."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    exact = Decimal(repr(magnitude))
    if 1e-3 <= magnitude < 1e7:
        plain = format(exact, "f")
        if "." not in plain:
            plain += ".0"
        return sign + plain
    digits_tuple = exact.as_tuple()
    digits = "".join(map(str, digits_tuple.digits)).rstrip("0") or "0"
    assert isinstance(digits_tuple.exponent, int)
    exponent = len(digits_tuple.digits) + digits_tuple.exponent - 1
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def format_decimal_3(value: float) -> str:
    """Java's ``%.3f`` for a double: HALF_UP rounding of the shortest decimal digits."""
    return str(Decimal(repr(value)).quantize(Decimal("0.001"), rounding=decimal.ROUND_HALF_UP))


def big_decimal_product(value: int, multiplier: float) -> Decimal:
    """The exact decimal product of ``value`` and the shortest decimal text of ``multiplier``."""
    return _EXACT.multiply(Decimal(value), Decimal(repr(multiplier)))


# ----------------------------------------------------------------------------------------------
# Float.parseFloat (a ConfigOption<Float> read from a string goes through it)
# ----------------------------------------------------------------------------------------------

_JAVA_FLOAT = re.compile(
    r"(?P<sign>[+-]?)(?:(?P<nan>NaN)|(?P<inf>Infinity)|"
    r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?)"
)
_FLOAT32_MAX_BITS = 0x7F7FFFFF
# Values at or above MAX_FLOAT + ulp/2 round to infinity.
_FLOAT32_OVERFLOW = Decimal(2**128 - 2**103)


def _f32_bits_to_float(bits: int) -> float:
    return float(struct.unpack("<f", struct.pack("<I", bits))[0])


def _float_to_f32_bits(value: float) -> int:
    return int(struct.unpack("<I", struct.pack("<f", value))[0])


def _round_to_float32(exact: Decimal) -> float:
    """Nearest float32 (ties to even) to a non-negative decimal, widened to a Python float."""
    if exact >= _FLOAT32_OVERFLOW:
        return math.inf
    approx = float(exact)  # correctly rounded double; may sit off by one float32 ulp after a 2nd rounding
    bits = _float_to_f32_bits(min(approx, _f32_bits_to_float(_FLOAT32_MAX_BITS)))
    best = bits
    best_distance = abs(Decimal(_f32_bits_to_float(bits)) - exact)
    for candidate in (bits - 1, bits + 1):
        if not 0 <= candidate <= _FLOAT32_MAX_BITS:
            continue
        distance = abs(Decimal(_f32_bits_to_float(candidate)) - exact)
        if distance < best_distance or (distance == best_distance and candidate % 2 == 0):
            best, best_distance = candidate, distance
    return _f32_bits_to_float(best)


def parse_java_float(text: str) -> float:
    """``(double) Float.parseFloat(text)``; raises ValueError like NumberFormatException."""
    trimmed = text.strip(JAVA_WHITESPACE)
    match = _JAVA_FLOAT.fullmatch(trimmed)
    if match is None:
        raise ValueError(f'For input string: "{trimmed}"')
    negative = match["sign"] == "-"
    if match["nan"]:
        return math.nan
    value = math.inf if match["inf"] else _round_to_float32(Decimal(match["num"]))
    return -value if negative else value

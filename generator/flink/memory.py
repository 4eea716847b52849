"""Flink's JobManager / TaskManager memory model, reproduced to the byte: what both processes share.

The model derives every memory component of a Flink process from a flat Flink configuration the
same way Flink 1.20 / 2.x does when it starts a process (``BashJavaUtils GET_TM_RESOURCE_PARAMS`` /
``GET_JM_RESOURCE_PARAMS``, i.e. ``TaskExecutorProcessUtils`` / ``JobManagerProcessUtils``), and
refuses the configurations Flink refuses, with Flink's own wording. It lives in three modules:

* this one: ``MemorySize`` parsing, printing and arithmetic, the memory options read with Flink's
  option semantics, ranges and fractions, and the JVM Metaspace and JVM Overhead of a process;
* :mod:`generator.flink.memory_taskmanager`: the TaskManager's components;
* :mod:`generator.flink.memory_jobmanager`: the JobManager's components.

Exactness notes (the reason this is not a three-line formula; Java's number semantics are in
:mod:`generator.flink.javanum`):

* Fractions are ``ConfigOption<Float>``: the text is parsed as a Java ``float`` and widened to
  ``double`` (``0.1`` becomes ``0.10000000149011612``).
* ``MemorySize.multiply(double)`` multiplies ``BigDecimal.valueOf(bytes)`` by
  ``BigDecimal.valueOf(multiplier)`` (the shortest decimal text of the double) and truncates.
* "Inverse" fractions (overhead from Total Flink Memory, network from the fine-grained components)
  multiply by ``f / (1 - f)`` computed in double arithmetic.

The code was written from those facts and from the observable behaviour of the Flink 2.3.0
calculator (see ``tests/tools/flink_memory_truth.py``), not from Flink's source text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from generator.flink.javanum import (
    JAVA_WHITESPACE,
    LONG_MAX,
    big_decimal_product,
    format_decimal_3,
    java_double_str,
    parse_java_float,
)

__all__ = [
    "Config",
    "MemoryConfigError",
    "Option",
    "ProcessOptions",
    "Range",
    "add_sizes",
    "fail_not_configured",
    "format_size",
    "human",
    "metaspace_overhead_from_flink",
    "metaspace_overhead_from_process",
    "parse_memory_size",
    "read_range",
    "with_fraction",
    "with_inverse_fraction",
]

_KIB = 1 << 10
_MIB = 1 << 20
_GIB = 1 << 30
_TIB = 1 << 40

# Flink's MemoryUnit table: (names, multiplier). The second name is the one Flink prints.
_UNIT_TABLE: tuple[tuple[tuple[str, ...], int], ...] = (
    (("b", "bytes"), 1),
    (("k", "kb", "kibibytes"), _KIB),
    (("m", "mb", "mebibytes"), _MIB),
    (("g", "gb", "gibibytes"), _GIB),
    (("t", "tb", "tebibytes"), _TIB),
)
_UNITS: dict[str, int] = {name: mult for names, mult in _UNIT_TABLE for name in names}
_ALL_UNITS_TEXT = " / ".join("(" + " | ".join(names) + ")" for names, _ in _UNIT_TABLE)


class MemoryConfigError(ValueError):
    """A memory configuration Flink refuses.

    ``str(error)`` is Flink's message (the exception and its causes, joined) followed by the
    configuration keys involved; ``flink_message`` is Flink's text alone and ``keys`` the keys.
    """

    def __init__(self, flink_message: str, keys: Iterable[str] = ()) -> None:
        self.flink_message = flink_message
        self.keys: tuple[str, ...] = tuple(dict.fromkeys(keys))
        text = flink_message
        if self.keys:
            text += " [configuration keys involved: " + ", ".join(self.keys) + "]"
        super().__init__(text)


# ----------------------------------------------------------------------------------------------
# MemorySize: parsing, printing, arithmetic
# ----------------------------------------------------------------------------------------------


def parse_memory_size(text: str | int) -> int:
    """Parse Flink's ``MemorySize`` syntax into bytes.

    A bare number is bytes; units (case-insensitive, all base 2) are ``b``/``bytes``,
    ``k``/``kb``/``kibibytes``, ``m``/``mb``/``mebibytes``, ``g``/``gb``/``gibibytes`` and
    ``t``/``tb``/``tebibytes``, optionally separated from the number by spaces. Only whole numbers
    are accepted (``1.5g`` is an error in Flink too).
    """
    if isinstance(text, bool):
        raise ValueError(f"memory size must be a number of bytes or a size text, not {text!r}")
    if isinstance(text, int):
        if not 0 <= text <= LONG_MAX:
            raise ValueError(f"memory size {text} is outside [0, {LONG_MAX}] bytes")
        return text
    trimmed = text.strip(JAVA_WHITESPACE)
    if not trimmed:
        raise ValueError("memory size is an empty or whitespace-only string")
    pos = 0
    while pos < len(trimmed) and "0" <= trimmed[pos] <= "9":
        pos += 1
    number = trimmed[:pos]
    unit = trimmed[pos:].strip(JAVA_WHITESPACE).lower()
    if not number:
        raise ValueError(f"memory size {text!r}: text does not start with a number")
    value = int(number)
    if value > LONG_MAX:
        raise ValueError(f"The value '{number}' cannot be re represented as 64bit number (numeric overflow).")
    if unit and unit not in _UNITS:
        raise ValueError(f"Memory size unit '{unit}' does not match any of the recognized units: {_ALL_UNITS_TEXT}")
    result = value * _UNITS.get(unit, 1)
    if result > LONG_MAX:
        raise ValueError(f"The value '{text}' cannot be re represented as 64bit number of bytes (numeric overflow).")
    return result


def format_size(nbytes: int, *, with_bytes: bool = False) -> str:
    """Human text for a byte count, as Flink prints it (``MemorySize.toHumanReadableString``).

    ``format_size(1664299798) == "1.550gb"``; sizes up to 1024 bytes print as ``"N bytes"``.
    ``with_bytes=True`` gives Flink's full form, ``"1.550gb (1664299798 bytes)"``.
    """
    unit_name, multiplier = "bytes", 1
    for names, mult in _UNIT_TABLE[1:]:
        if nbytes > mult:
            unit_name, multiplier = names[1], mult
    if multiplier == 1:
        return f"{nbytes} bytes"
    text = format_decimal_3(float(nbytes) / float(multiplier)) + unit_name
    return f"{text} ({nbytes} bytes)" if with_bytes else text


def human(nbytes: int) -> str:
    """Flink's full size text in its messages: ``"1.550gb (1664299798 bytes)"``."""
    return format_size(nbytes, with_bytes=True)


def add_sizes(*sizes: int) -> int:
    """``MemorySize.add``: the sum, refused where it overflows a Java ``long``."""
    total = sum(sizes)
    if total > LONG_MAX:
        raise MemoryConfigError("long overflow while adding memory sizes")
    return total


def _multiply(nbytes: int, multiplier: float) -> int:
    """``MemorySize.multiply(double)``: exact decimal product of the shortest texts, truncated."""
    if not multiplier >= 0:
        raise MemoryConfigError("multiplier must be >= 0")
    product = big_decimal_product(nbytes, multiplier)
    if product > LONG_MAX:
        raise MemoryConfigError("long overflow")
    return int(product)


# ----------------------------------------------------------------------------------------------
# Configuration access
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    key: str
    default: str | None = None
    deprecated: tuple[str, ...] = ()

    def describe(self) -> str:
        """``ConfigOption.toString()`` (Flink prints it in a few messages)."""
        fallbacks = ", ".join(f"{{key={k}, isDeprecated=true}}" for k in self.deprecated)
        default = "null" if self.default is None else self.default
        return f"Key: '{self.key}' , default: {default} (fallback keys: [{fallbacks}])"


class Config:
    """Read-only view of a flat Flink configuration with Flink's option semantics."""

    def __init__(self, conf: Mapping[str, str]) -> None:
        self._conf = conf

    def _lookup(self, option: Option) -> tuple[str, str] | None:
        for key in (option.key, *option.deprecated):
            if key in self._conf:
                return key, str(self._conf[key])
        return None

    def contains(self, option: Option) -> bool:
        return self._lookup(option) is not None

    def used_key(self, option: Option) -> str:
        found = self._lookup(option)
        return option.key if found is None else found[0]

    def memory(self, option: Option) -> int:
        found = self._lookup(option)
        if found is None:
            if option.default is None:
                raise MemoryConfigError(
                    f"Cannot read memory size from config option '{option.key}'. "
                    "The memory option is not set and has no default value.",
                    (option.key,),
                )
            return parse_memory_size(option.default)
        key, text = found
        try:
            return parse_memory_size(text)
        except ValueError as err:
            raise MemoryConfigError(
                f"Cannot read memory size from config option '{option.key}'. "
                f"Could not parse value '{text}' for key '{option.key}'. {err}",
                (key,),
            ) from err

    def fraction(self, option: Option) -> float:
        found = self._lookup(option)
        key, text = found if found is not None else (option.key, option.default or "")
        try:
            return parse_java_float(text)
        except ValueError as err:
            raise MemoryConfigError(f"Could not parse value '{text}' for key '{option.key}'. {err}", (key,)) from err

    def boolean(self, option: Option) -> bool:
        found = self._lookup(option)
        key, text = found if found is not None else (option.key, option.default or "false")
        lowered = text.strip(JAVA_WHITESPACE).lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise MemoryConfigError(
            f"Could not parse value '{text}' for key '{option.key}'. Unrecognized option for boolean: "
            f"{text}. Expected either true or false(case insensitive)",
            (key,),
        )


@dataclass(frozen=True)
class Range:
    min: int
    max: int
    fraction: float


def read_range(conf: Config, min_opt: Option, max_opt: Option, fraction_opt: Option) -> Range:
    low = conf.memory(min_opt)
    high = conf.memory(max_opt)
    fraction = conf.fraction(fraction_opt)
    if low > high:
        reason = "min value must be less or equal to max value"
    elif not 0 <= fraction < 1:
        reason = "fraction must be in range [0, 1)"
    else:
        return Range(low, high, fraction)
    raise MemoryConfigError(
        f"Inconsistently configured {fraction_opt.describe()} ({java_double_str(fraction)}) "
        f"and its min ({human(low)}), max ({human(high)}) value. {reason}",
        tuple(conf.used_key(o) for o in (fraction_opt, min_opt, max_opt) if o.key),
    )


def _cap(size: int, rng: Range) -> int:
    if size > rng.max:
        return rng.max
    if size < rng.min:
        return rng.min
    return size


def with_fraction(base: int, rng: Range) -> int:
    return _cap(_multiply(base, rng.fraction), rng)


def with_inverse_fraction(base: int, rng: Range) -> int:
    return _cap(_multiply(base, rng.fraction / (1 - rng.fraction)), rng)


# ----------------------------------------------------------------------------------------------
# Process level (shared by JM and TM): metaspace and overhead
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessOptions:
    fine_grained: tuple[Option, ...]
    total_flink: Option
    total_process: Option
    metaspace: Option
    overhead_min: Option
    overhead_max: Option
    overhead_fraction: Option

    def overhead_keys(self) -> tuple[str, ...]:
        return (self.overhead_min.key, self.overhead_max.key, self.overhead_fraction.key)

    def configured_fine_grained_keys(self, conf: Config) -> tuple[str, ...]:
        return tuple(conf.used_key(o) for o in self.fine_grained if conf.contains(o))


def _overhead_range(conf: Config, opts: ProcessOptions) -> Range:
    return read_range(conf, opts.overhead_min, opts.overhead_max, opts.overhead_fraction)


def metaspace_overhead_from_process(conf: Config, opts: ProcessOptions, process: int) -> tuple[int, int]:
    metaspace = conf.memory(opts.metaspace)
    overhead = with_fraction(process, _overhead_range(conf, opts))
    if metaspace + overhead > process:
        raise MemoryConfigError(
            f"Sum of configured JVM Metaspace ({human(metaspace)}) and JVM Overhead ({human(overhead)}) "
            f"exceed configured Total Process Memory ({human(process)}).",
            (opts.total_process.key, opts.metaspace.key, *opts.overhead_keys()),
        )
    return metaspace, overhead


def metaspace_overhead_from_flink(conf: Config, opts: ProcessOptions, total_flink: int) -> tuple[int, int]:
    metaspace = conf.memory(opts.metaspace)
    flink_and_metaspace = add_sizes(total_flink, metaspace)
    if not conf.contains(opts.total_process):
        overhead = with_inverse_fraction(flink_and_metaspace, _overhead_range(conf, opts))
        return metaspace, overhead
    # Total Process Memory is configured too: the overhead is whatever is left.
    process = conf.memory(opts.total_process)
    keys = (
        opts.total_process.key,
        opts.total_flink.key,
        *opts.configured_fine_grained_keys(conf),
        opts.metaspace.key,
    )
    if process < flink_and_metaspace:
        raise MemoryConfigError(
            f"The configured Total Process Memory size ({human(process)}) is less than the sum of the "
            f"derived Total Flink Memory size ({human(total_flink)}) and the configured or default "
            f"JVM Metaspace size  ({human(metaspace)}).",
            keys,
        )
    overhead = process - flink_and_metaspace
    rng = _overhead_range(conf, opts)
    if not rng.min <= overhead <= rng.max:
        raise MemoryConfigError(
            f"Derived JVM Overhead size ({human(overhead)}) is not in configured JVM Overhead range "
            f"[{human(rng.min)}, {human(rng.max)}].",
            (*keys, opts.overhead_min.key, opts.overhead_max.key),
        )
    return metaspace, overhead


def fail_not_configured(opts: ProcessOptions) -> MemoryConfigError:
    return MemoryConfigError(
        "Either required fine-grained memory ("
        + " and ".join(o.key for o in opts.fine_grained)
        + f"), or Total Flink Memory size ({opts.total_flink.describe()}), or Total Process Memory "
        f"size ({opts.total_process.describe()}) need to be configured explicitly.",
        (*(o.key for o in opts.fine_grained), opts.total_flink.key, opts.total_process.key),
    )

"""Flink's JobManager / TaskManager memory model, reproduced to the byte.

This module derives every memory component of a Flink process from a flat Flink configuration the
same way Flink 1.20 / 2.x does when it starts a process (``BashJavaUtils GET_TM_RESOURCE_PARAMS`` /
``GET_JM_RESOURCE_PARAMS``, i.e. ``TaskExecutorProcessUtils`` / ``JobManagerProcessUtils``), and
refuses the configurations Flink refuses, with Flink's own wording.

Exactness notes (the reason this is not a three-line formula):

* Fractions are ``ConfigOption<Float>``: the text is parsed as a Java ``float`` and widened to
  ``double`` (``0.1`` becomes ``0.10000000149011612``).
* ``MemorySize.multiply(double)`` multiplies ``BigDecimal.valueOf(bytes)`` by
  ``BigDecimal.valueOf(multiplier)`` (the shortest decimal text of the double) and truncates.
* "Inverse" fractions (overhead from Total Flink Memory, network from the fine-grained components)
  multiply by ``f / (1 - f)`` computed in double arithmetic.

The code below was written from those facts and from the observable behaviour of the Flink 2.3.0
calculator (see ``tests/tools/flink_memory_truth.py``), not from Flink's source text.
"""

from __future__ import annotations

import decimal
import math
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "JobManagerMemory",
    "MemoryConfigError",
    "TaskManagerMemory",
    "format_size",
    "jobmanager_memory",
    "parse_memory_size",
    "taskmanager_memory",
]

LONG_MAX = 2**63 - 1

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

# Java's String.trim() removes every char <= U+0020.
_JAVA_WHITESPACE = "".join(chr(i) for i in range(33))

_EXACT = decimal.Context(prec=100, rounding=decimal.ROUND_DOWN, Emax=10**6, Emin=-(10**6))

TM_PREFIX = "TaskManager memory configuration failed: "


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
# Results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskManagerMemory:
    """Every TaskManager memory component, in bytes."""

    total_process: int
    total_flink: int
    framework_heap: int
    task_heap: int
    managed: int
    framework_off_heap: int
    task_off_heap: int
    network: int
    jvm_metaspace: int
    jvm_overhead: int

    @property
    def jvm_heap(self) -> int:
        """``-Xmx`` / ``-Xms``: framework heap + task heap."""
        return self.framework_heap + self.task_heap

    @property
    def direct(self) -> int:
        """``-XX:MaxDirectMemorySize``: framework off-heap + task off-heap + network."""
        return self.framework_off_heap + self.task_off_heap + self.network

    @property
    def off_heap(self) -> int:
        """Everything outside the JVM heap inside Total Flink Memory: managed + direct."""
        return self.managed + self.direct

    def jvm_args(self) -> str:
        """The JVM memory flags exactly as Flink's start scripts pass them."""
        return (
            f"-Xmx{self.jvm_heap} -Xms{self.jvm_heap} -XX:MaxDirectMemorySize={self.direct} "
            f"-XX:MaxMetaspaceSize={self.jvm_metaspace}"
        )

    def dynamic_configs(self) -> dict[str, str]:
        """The memory ``-D`` options Flink hands the TaskManager (values in bytes, ``b`` suffix)."""
        return {
            "taskmanager.memory.framework.heap.size": f"{self.framework_heap}b",
            "taskmanager.memory.task.heap.size": f"{self.task_heap}b",
            "taskmanager.memory.framework.off-heap.size": f"{self.framework_off_heap}b",
            "taskmanager.memory.task.off-heap.size": f"{self.task_off_heap}b",
            "taskmanager.memory.network.min": f"{self.network}b",
            "taskmanager.memory.network.max": f"{self.network}b",
            "taskmanager.memory.managed.size": f"{self.managed}b",
            "taskmanager.memory.jvm-metaspace.size": f"{self.jvm_metaspace}b",
            "taskmanager.memory.jvm-overhead.min": f"{self.jvm_overhead}b",
            "taskmanager.memory.jvm-overhead.max": f"{self.jvm_overhead}b",
        }


@dataclass(frozen=True)
class JobManagerMemory:
    """Every JobManager memory component, in bytes."""

    total_process: int
    total_flink: int
    jvm_heap: int
    off_heap: int
    jvm_metaspace: int
    jvm_overhead: int
    #: ``jobmanager.memory.enable-jvm-direct-memory-limit``: adds ``-XX:MaxDirectMemorySize``.
    jvm_direct_memory_limit: bool = False

    def jvm_args(self) -> str:
        """The JVM memory flags exactly as Flink's start scripts pass them."""
        direct = f" -XX:MaxDirectMemorySize={self.off_heap}" if self.jvm_direct_memory_limit else ""
        return f"-Xmx{self.jvm_heap} -Xms{self.jvm_heap}{direct} -XX:MaxMetaspaceSize={self.jvm_metaspace}"

    def dynamic_configs(self) -> dict[str, str]:
        """The memory ``-D`` options Flink hands the JobManager (values in bytes, ``b`` suffix)."""
        return {
            "jobmanager.memory.heap.size": f"{self.jvm_heap}b",
            "jobmanager.memory.off-heap.size": f"{self.off_heap}b",
            "jobmanager.memory.jvm-metaspace.size": f"{self.jvm_metaspace}b",
            "jobmanager.memory.jvm-overhead.min": f"{self.jvm_overhead}b",
            "jobmanager.memory.jvm-overhead.max": f"{self.jvm_overhead}b",
        }


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
    trimmed = text.strip(_JAVA_WHITESPACE)
    if not trimmed:
        raise ValueError("memory size is an empty or whitespace-only string")
    pos = 0
    while pos < len(trimmed) and "0" <= trimmed[pos] <= "9":
        pos += 1
    number = trimmed[:pos]
    unit = trimmed[pos:].strip(_JAVA_WHITESPACE).lower()
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


def _java_double_str(value: float) -> str:
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


def _format_decimal_3(value: float) -> str:
    """Java's ``%.3f`` for a double: HALF_UP rounding of the shortest decimal digits."""
    return str(Decimal(repr(value)).quantize(Decimal("0.001"), rounding=decimal.ROUND_HALF_UP))


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
    text = _format_decimal_3(float(nbytes) / float(multiplier)) + unit_name
    return f"{text} ({nbytes} bytes)" if with_bytes else text


def _h(nbytes: int) -> str:
    return format_size(nbytes, with_bytes=True)


def _add(*sizes: int) -> int:
    total = sum(sizes)
    if total > LONG_MAX:
        raise MemoryConfigError("long overflow while adding memory sizes")
    return total


def _multiply(nbytes: int, multiplier: float) -> int:
    """``MemorySize.multiply(double)``: exact decimal product of the shortest texts, truncated."""
    if not multiplier >= 0:
        raise MemoryConfigError("multiplier must be >= 0")
    product = _EXACT.multiply(Decimal(nbytes), Decimal(repr(multiplier)))
    if product > LONG_MAX:
        raise MemoryConfigError("long overflow")
    return int(product)


# ----------------------------------------------------------------------------------------------
# Java float parsing (ConfigOption<Float> from a string goes through Float.parseFloat)
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


def _parse_java_float(text: str) -> float:
    """``(double) Float.parseFloat(text)``; raises ValueError like NumberFormatException."""
    trimmed = text.strip(_JAVA_WHITESPACE)
    match = _JAVA_FLOAT.fullmatch(trimmed)
    if match is None:
        raise ValueError(f'For input string: "{trimmed}"')
    negative = match["sign"] == "-"
    if match["nan"]:
        return math.nan
    value = math.inf if match["inf"] else _round_to_float32(Decimal(match["num"]))
    return -value if negative else value


# ----------------------------------------------------------------------------------------------
# Configuration access
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Option:
    key: str
    default: str | None = None
    deprecated: tuple[str, ...] = ()

    def describe(self) -> str:
        """``ConfigOption.toString()`` (Flink prints it in a few messages)."""
        fallbacks = ", ".join(f"{{key={k}, isDeprecated=true}}" for k in self.deprecated)
        default = "null" if self.default is None else self.default
        return f"Key: '{self.key}' , default: {default} (fallback keys: [{fallbacks}])"


class _Config:
    """Read-only view of a flat Flink configuration with Flink's option semantics."""

    def __init__(self, conf: Mapping[str, str]) -> None:
        self._conf = conf

    def _lookup(self, option: _Option) -> tuple[str, str] | None:
        for key in (option.key, *option.deprecated):
            if key in self._conf:
                return key, str(self._conf[key])
        return None

    def contains(self, option: _Option) -> bool:
        return self._lookup(option) is not None

    def used_key(self, option: _Option) -> str:
        found = self._lookup(option)
        return option.key if found is None else found[0]

    def memory(self, option: _Option) -> int:
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

    def fraction(self, option: _Option) -> float:
        found = self._lookup(option)
        key, text = found if found is not None else (option.key, option.default or "")
        try:
            return _parse_java_float(text)
        except ValueError as err:
            raise MemoryConfigError(f"Could not parse value '{text}' for key '{option.key}'. {err}", (key,)) from err

    def boolean(self, option: _Option) -> bool:
        found = self._lookup(option)
        key, text = found if found is not None else (option.key, option.default or "false")
        lowered = text.strip(_JAVA_WHITESPACE).lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise MemoryConfigError(
            f"Could not parse value '{text}' for key '{option.key}'. Unrecognized option for boolean: "
            f"{text}. Expected either true or false(case insensitive)",
            (key,),
        )


@dataclass(frozen=True)
class _Range:
    min: int
    max: int
    fraction: float


def _range(conf: _Config, min_opt: _Option, max_opt: _Option, fraction_opt: _Option) -> _Range:
    low = conf.memory(min_opt)
    high = conf.memory(max_opt)
    fraction = conf.fraction(fraction_opt)
    if low > high:
        reason = "min value must be less or equal to max value"
    elif not 0 <= fraction < 1:
        reason = "fraction must be in range [0, 1)"
    else:
        return _Range(low, high, fraction)
    raise MemoryConfigError(
        f"Inconsistently configured {fraction_opt.describe()} ({_java_double_str(fraction)}) "
        f"and its min ({_h(low)}), max ({_h(high)}) value. {reason}",
        tuple(conf.used_key(o) for o in (fraction_opt, min_opt, max_opt) if o.key),
    )


def _cap(size: int, rng: _Range) -> int:
    if size > rng.max:
        return rng.max
    if size < rng.min:
        return rng.min
    return size


def _with_fraction(base: int, rng: _Range) -> int:
    return _cap(_multiply(base, rng.fraction), rng)


def _with_inverse_fraction(base: int, rng: _Range) -> int:
    return _cap(_multiply(base, rng.fraction / (1 - rng.fraction)), rng)


# ----------------------------------------------------------------------------------------------
# Process level (shared by JM and TM): metaspace and overhead
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ProcessOptions:
    fine_grained: tuple[_Option, ...]
    total_flink: _Option
    total_process: _Option
    metaspace: _Option
    overhead_min: _Option
    overhead_max: _Option
    overhead_fraction: _Option

    def overhead_keys(self) -> tuple[str, ...]:
        return (self.overhead_min.key, self.overhead_max.key, self.overhead_fraction.key)

    def configured_fine_grained_keys(self, conf: _Config) -> tuple[str, ...]:
        return tuple(conf.used_key(o) for o in self.fine_grained if conf.contains(o))


def _overhead_range(conf: _Config, opts: _ProcessOptions) -> _Range:
    return _range(conf, opts.overhead_min, opts.overhead_max, opts.overhead_fraction)


def _metaspace_overhead_from_process(conf: _Config, opts: _ProcessOptions, process: int) -> tuple[int, int]:
    metaspace = conf.memory(opts.metaspace)
    overhead = _with_fraction(process, _overhead_range(conf, opts))
    if metaspace + overhead > process:
        raise MemoryConfigError(
            f"Sum of configured JVM Metaspace ({_h(metaspace)}) and JVM Overhead ({_h(overhead)}) "
            f"exceed configured Total Process Memory ({_h(process)}).",
            (opts.total_process.key, opts.metaspace.key, *opts.overhead_keys()),
        )
    return metaspace, overhead


def _metaspace_overhead_from_flink(conf: _Config, opts: _ProcessOptions, total_flink: int) -> tuple[int, int]:
    metaspace = conf.memory(opts.metaspace)
    flink_and_metaspace = _add(total_flink, metaspace)
    if not conf.contains(opts.total_process):
        overhead = _with_inverse_fraction(flink_and_metaspace, _overhead_range(conf, opts))
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
            f"The configured Total Process Memory size ({_h(process)}) is less than the sum of the "
            f"derived Total Flink Memory size ({_h(total_flink)}) and the configured or default "
            f"JVM Metaspace size  ({_h(metaspace)}).",
            keys,
        )
    overhead = process - flink_and_metaspace
    rng = _overhead_range(conf, opts)
    if not rng.min <= overhead <= rng.max:
        raise MemoryConfigError(
            f"Derived JVM Overhead size ({_h(overhead)}) is not in configured JVM Overhead range "
            f"[{_h(rng.min)}, {_h(rng.max)}].",
            (*keys, opts.overhead_min.key, opts.overhead_max.key),
        )
    return metaspace, overhead


def _fail_not_configured(opts: _ProcessOptions) -> MemoryConfigError:
    return MemoryConfigError(
        "Either required fine-grained memory ("
        + " and ".join(o.key for o in opts.fine_grained)
        + f"), or Total Flink Memory size ({opts.total_flink.describe()}), or Total Process Memory "
        f"size ({opts.total_process.describe()}) need to be configured explicitly.",
        (*(o.key for o in opts.fine_grained), opts.total_flink.key, opts.total_process.key),
    )


# ----------------------------------------------------------------------------------------------
# TaskManager
# ----------------------------------------------------------------------------------------------


class _TM:
    PROCESS = _Option("taskmanager.memory.process.size")
    FLINK = _Option("taskmanager.memory.flink.size")
    FRAMEWORK_HEAP = _Option("taskmanager.memory.framework.heap.size", "128m")
    FRAMEWORK_OFF_HEAP = _Option("taskmanager.memory.framework.off-heap.size", "128m")
    TASK_HEAP = _Option("taskmanager.memory.task.heap.size")
    TASK_OFF_HEAP = _Option("taskmanager.memory.task.off-heap.size", "0")
    MANAGED_SIZE = _Option("taskmanager.memory.managed.size", None, ("taskmanager.memory.size",))
    MANAGED_FRACTION = _Option("taskmanager.memory.managed.fraction", "0.4")
    NETWORK_MIN = _Option("taskmanager.memory.network.min", "64m", ("taskmanager.network.memory.min",))
    NETWORK_MAX = _Option("taskmanager.memory.network.max", f"{LONG_MAX}b", ("taskmanager.network.memory.max",))
    NETWORK_FRACTION = _Option("taskmanager.memory.network.fraction", "0.1", ("taskmanager.network.memory.fraction",))
    METASPACE = _Option("taskmanager.memory.jvm-metaspace.size", "256m")
    OVERHEAD_MIN = _Option("taskmanager.memory.jvm-overhead.min", "192m")
    OVERHEAD_MAX = _Option("taskmanager.memory.jvm-overhead.max", "1g")
    OVERHEAD_FRACTION = _Option("taskmanager.memory.jvm-overhead.fraction", "0.1")

    PROCESS_OPTIONS = _ProcessOptions(
        fine_grained=(TASK_HEAP, MANAGED_SIZE),
        total_flink=FLINK,
        total_process=PROCESS,
        metaspace=METASPACE,
        overhead_min=OVERHEAD_MIN,
        overhead_max=OVERHEAD_MAX,
        overhead_fraction=OVERHEAD_FRACTION,
    )


@dataclass(frozen=True)
class _TMFlink:
    framework_heap: int
    framework_off_heap: int
    task_heap: int
    task_off_heap: int
    network: int
    managed: int

    @property
    def total(self) -> int:
        return _add(
            self.framework_heap,
            self.framework_off_heap,
            self.task_heap,
            self.task_off_heap,
            self.network,
            self.managed,
        )


def _tm_keys(conf: _Config, *options: _Option) -> tuple[str, ...]:
    return tuple(conf.used_key(o) for o in options)


def _tm_total_keys(conf: _Config) -> tuple[str, ...]:
    """The size option(s) the Total Flink Memory came from."""
    if conf.contains(_TM.FLINK):
        return (conf.used_key(_TM.FLINK),)
    if conf.contains(_TM.PROCESS):
        return (_TM.PROCESS.key, _TM.METASPACE.key, *_TM.PROCESS_OPTIONS.overhead_keys())
    return ()


def _tm_managed_keys(conf: _Config) -> tuple[str, ...]:
    if conf.contains(_TM.MANAGED_SIZE):
        return (conf.used_key(_TM.MANAGED_SIZE),)
    return (_TM.MANAGED_FRACTION.key,)


def _tm_network_range(conf: _Config) -> _Range:
    return _range(conf, _TM.NETWORK_MIN, _TM.NETWORK_MAX, _TM.NETWORK_FRACTION)


def _tm_managed(conf: _Config, total_flink: int) -> int:
    if conf.contains(_TM.MANAGED_SIZE):
        return conf.memory(_TM.MANAGED_SIZE)
    # Managed memory has no min/max options: its range is [0, Long.MAX_VALUE].
    rng = _range(conf, _Option("", "0"), _Option("", f"{LONG_MAX}b"), _TM.MANAGED_FRACTION)
    return _with_fraction(total_flink, rng)


def _tm_exceeds_with_task_heap(
    conf: _Config, fw_heap: int, fw_off: int, task_heap: int, task_off: int, managed: int, total_flink: int
) -> MemoryConfigError:
    return MemoryConfigError(
        f"Sum of configured Framework Heap Memory ({_h(fw_heap)}), Framework Off-Heap Memory "
        f"({_h(fw_off)}), Task Heap Memory ({_h(task_heap)}), Task Off-Heap Memory ({_h(task_off)}) "
        f"and Managed Memory ({_h(managed)}) exceed configured Total Flink Memory ({_h(total_flink)}).",
        (
            *_tm_total_keys(conf),
            *_tm_keys(conf, _TM.FRAMEWORK_HEAP, _TM.FRAMEWORK_OFF_HEAP, _TM.TASK_HEAP, _TM.TASK_OFF_HEAP),
            *_tm_managed_keys(conf),
        ),
    )


def _tm_check_network_rest(conf: _Config, network: int) -> None:
    """Network is "the rest" of an explicit Total Flink Memory: it must fit network min/max."""
    keys = (
        *_tm_total_keys(conf),
        *_tm_keys(conf, _TM.TASK_HEAP),
        *_tm_managed_keys(conf),
        *_tm_keys(conf, _TM.NETWORK_MIN, _TM.NETWORK_MAX),
    )
    lead = (
        "If Total Flink, Task Heap and (or) Managed Memory sizes are explicitly configured then the "
        "Network Memory size is the rest of the Total Flink memory after subtracting all other "
        "configured types of memory, but the derived Network Memory is inconsistent with its "
        "configuration."
    )
    try:
        rng = _tm_network_range(conf)
    except MemoryConfigError as err:
        raise MemoryConfigError(f"{lead} {err.flink_message}", (*keys, *err.keys)) from err
    if not rng.min <= network <= rng.max:
        raise MemoryConfigError(
            f"{lead} Derived Network Memory size ({_h(network)}) is not in configured Network Memory "
            f"range [{_h(rng.min)}, {_h(rng.max)}].",
            keys,
        )


def _tm_check_total_flink(conf: _Config, flink: _TMFlink) -> None:
    if not conf.contains(_TM.FLINK):
        return
    configured = conf.memory(_TM.FLINK)
    if configured != flink.total:
        raise MemoryConfigError(
            f"Configured and Derived Flink internal memory sizes (total {_h(flink.total)}) do not add up "
            f"to the configured Total Flink Memory size ({_h(configured)}). Configured and Derived Flink "
            f"internal memory sizes are: Framework Heap Memory ({_h(flink.framework_heap)}), Framework "
            f"Off-Heap Memory ({_h(flink.framework_off_heap)}), Task Heap Memory ({_h(flink.task_heap)}), "
            f"Task Off-Heap Memory ({_h(flink.task_off_heap)}), Network Memory ({_h(flink.network)}), "
            f"Managed Memory ({_h(flink.managed)}).",
            (conf.used_key(_TM.FLINK), *_tm_keys(conf, _TM.TASK_HEAP), *_tm_managed_keys(conf)),
        )


def _tm_from_fine_grained(conf: _Config) -> _TMFlink:
    task_heap = conf.memory(_TM.TASK_HEAP)
    managed = conf.memory(_TM.MANAGED_SIZE)
    fw_heap = conf.memory(_TM.FRAMEWORK_HEAP)
    fw_off = conf.memory(_TM.FRAMEWORK_OFF_HEAP)
    task_off = conf.memory(_TM.TASK_OFF_HEAP)
    without_network = _add(fw_heap, fw_off, task_heap, task_off, managed)
    if conf.contains(_TM.FLINK):
        total_flink = conf.memory(_TM.FLINK)
        if without_network > total_flink:
            raise _tm_exceeds_with_task_heap(conf, fw_heap, fw_off, task_heap, task_off, managed, total_flink)
        network = total_flink - without_network
        _tm_check_network_rest(conf, network)
    else:
        network = _with_inverse_fraction(without_network, _tm_network_range(conf))
    flink = _TMFlink(fw_heap, fw_off, task_heap, task_off, network, managed)
    _tm_check_total_flink(conf, flink)
    return flink


def _tm_from_total_flink(conf: _Config, total_flink: int) -> _TMFlink:
    fw_heap = conf.memory(_TM.FRAMEWORK_HEAP)
    fw_off = conf.memory(_TM.FRAMEWORK_OFF_HEAP)
    task_off = conf.memory(_TM.TASK_OFF_HEAP)
    if conf.contains(_TM.TASK_HEAP):
        # Task heap given: managed first, network is the rest (and must fit its range).
        task_heap = conf.memory(_TM.TASK_HEAP)
        managed = _tm_managed(conf, total_flink)
        without_network = _add(fw_heap, fw_off, task_heap, task_off, managed)
        if without_network > total_flink:
            raise _tm_exceeds_with_task_heap(conf, fw_heap, fw_off, task_heap, task_off, managed, total_flink)
        network = total_flink - without_network
        _tm_check_network_rest(conf, network)
    else:
        # The usual case: managed and network from their fractions, task heap is the rest.
        managed = _tm_managed(conf, total_flink)
        network = _with_fraction(total_flink, _tm_network_range(conf))
        without_task_heap = _add(fw_heap, fw_off, task_off, managed, network)
        if without_task_heap > total_flink:
            raise MemoryConfigError(
                f"Sum of configured Framework Heap Memory ({_h(fw_heap)}), Framework Off-Heap Memory "
                f"({_h(fw_off)}), Task Off-Heap Memory ({_h(task_off)}), Managed Memory ({_h(managed)}) "
                f"and Network Memory ({_h(network)}) exceed configured Total Flink Memory "
                f"({_h(total_flink)}).",
                (
                    *_tm_total_keys(conf),
                    *_tm_keys(conf, _TM.FRAMEWORK_HEAP, _TM.FRAMEWORK_OFF_HEAP, _TM.TASK_OFF_HEAP),
                    *_tm_managed_keys(conf),
                    *_tm_keys(conf, _TM.NETWORK_MIN, _TM.NETWORK_MAX, _TM.NETWORK_FRACTION),
                ),
            )
        task_heap = total_flink - without_task_heap
    flink = _TMFlink(fw_heap, fw_off, task_heap, task_off, network, managed)
    _tm_check_total_flink(conf, flink)
    return flink


def _taskmanager(conf: _Config) -> TaskManagerMemory:
    opts = _TM.PROCESS_OPTIONS
    if all(conf.contains(o) for o in opts.fine_grained):
        flink = _tm_from_fine_grained(conf)
        metaspace, overhead = _metaspace_overhead_from_flink(conf, opts, flink.total)
    elif conf.contains(_TM.FLINK):
        total_flink = conf.memory(_TM.FLINK)
        flink = _tm_from_total_flink(conf, total_flink)
        metaspace, overhead = _metaspace_overhead_from_flink(conf, opts, total_flink)
    elif conf.contains(_TM.PROCESS):
        process = conf.memory(_TM.PROCESS)
        metaspace, overhead = _metaspace_overhead_from_process(conf, opts, process)
        flink = _tm_from_total_flink(conf, process - metaspace - overhead)
    else:
        raise _fail_not_configured(opts)
    total_flink = flink.total
    return TaskManagerMemory(
        total_process=_add(total_flink, metaspace, overhead),
        total_flink=total_flink,
        framework_heap=flink.framework_heap,
        task_heap=flink.task_heap,
        managed=flink.managed,
        framework_off_heap=flink.framework_off_heap,
        task_off_heap=flink.task_off_heap,
        network=flink.network,
        jvm_metaspace=metaspace,
        jvm_overhead=overhead,
    )


def taskmanager_memory(conf: Mapping[str, str]) -> TaskManagerMemory:
    """Derive the TaskManager memory layout from a flat Flink configuration, as Flink does.

    Entry points, in Flink's precedence order: ``task.heap.size`` + ``managed.size`` (fine-grained),
    then ``flink.size``, then ``process.size``. Raises :class:`MemoryConfigError` where Flink refuses.
    """
    try:
        return _taskmanager(_Config(conf))
    except MemoryConfigError as err:
        if err.flink_message.startswith("Could not parse value"):
            raise  # Flink raises these outside the memory-configuration wrapper
        raise MemoryConfigError(TM_PREFIX + err.flink_message, err.keys) from err


# ----------------------------------------------------------------------------------------------
# JobManager
# ----------------------------------------------------------------------------------------------


class _JM:
    PROCESS = _Option("jobmanager.memory.process.size")
    FLINK = _Option("jobmanager.memory.flink.size")
    HEAP = _Option("jobmanager.memory.heap.size")
    OFF_HEAP = _Option("jobmanager.memory.off-heap.size", "128m")
    METASPACE = _Option("jobmanager.memory.jvm-metaspace.size", "256m")
    OVERHEAD_MIN = _Option("jobmanager.memory.jvm-overhead.min", "192m")
    OVERHEAD_MAX = _Option("jobmanager.memory.jvm-overhead.max", "1g")
    OVERHEAD_FRACTION = _Option("jobmanager.memory.jvm-overhead.fraction", "0.1")
    DIRECT_LIMIT = _Option("jobmanager.memory.enable-jvm-direct-memory-limit", "false")

    PROCESS_OPTIONS = _ProcessOptions(
        fine_grained=(HEAP,),
        total_flink=FLINK,
        total_process=PROCESS,
        metaspace=METASPACE,
        overhead_min=OVERHEAD_MIN,
        overhead_max=OVERHEAD_MAX,
        overhead_fraction=OVERHEAD_FRACTION,
    )


_JM_CONSISTENCY_HINT = (
    "Please, make the configuration consistent or configure only one option: either JVM Heap or Total Flink Memory."
)


def _jm_from_heap(conf: _Config) -> tuple[int, int]:
    heap = conf.memory(_JM.HEAP)
    off_heap = conf.memory(_JM.OFF_HEAP)
    if conf.contains(_JM.FLINK):
        total_flink = conf.memory(_JM.FLINK)
        if conf.contains(_JM.OFF_HEAP):
            if _add(heap, off_heap) != total_flink:
                raise MemoryConfigError(
                    f"Sum of the configured JVM Heap Memory ({_h(heap)}) and the configured Off-heap "
                    f"Memory ({_h(off_heap)}) does not match the configured Total Flink Memory "
                    f"({_h(total_flink)}). {_JM_CONSISTENCY_HINT}",
                    (_JM.HEAP.key, _JM.OFF_HEAP.key, _JM.FLINK.key),
                )
        else:
            if total_flink < heap:
                raise MemoryConfigError(
                    f"The configured JVM Heap Memory ({_h(heap)}) exceeds the configured Total Flink "
                    f"Memory ({_h(total_flink)}). {_JM_CONSISTENCY_HINT}",
                    (_JM.HEAP.key, _JM.FLINK.key),
                )
            off_heap = total_flink - heap
    return heap, off_heap


def _jm_from_total_flink(conf: _Config, total_flink: int) -> tuple[int, int]:
    off_heap = conf.memory(_JM.OFF_HEAP)
    if total_flink <= off_heap:
        raise MemoryConfigError(
            f"The configured Total Flink Memory ({_h(total_flink)}) is less than the configured "
            f"Off-heap Memory ({_h(off_heap)}).",
            (conf.used_key(_JM.FLINK) if conf.contains(_JM.FLINK) else _JM.PROCESS.key, _JM.OFF_HEAP.key),
        )
    return total_flink - off_heap, off_heap


def jobmanager_memory(conf: Mapping[str, str]) -> JobManagerMemory:
    """Derive the JobManager memory layout from a flat Flink configuration, as Flink does.

    Entry points, in Flink's precedence order: ``heap.size``, then ``flink.size``, then
    ``process.size``. Raises :class:`MemoryConfigError` where Flink refuses.
    """
    cfg = _Config(conf)
    opts = _JM.PROCESS_OPTIONS
    if cfg.contains(_JM.HEAP):
        heap, off_heap = _jm_from_heap(cfg)
        metaspace, overhead = _metaspace_overhead_from_flink(cfg, opts, _add(heap, off_heap))
    elif cfg.contains(_JM.FLINK):
        total_flink = cfg.memory(_JM.FLINK)
        heap, off_heap = _jm_from_total_flink(cfg, total_flink)
        metaspace, overhead = _metaspace_overhead_from_flink(cfg, opts, total_flink)
    elif cfg.contains(_JM.PROCESS):
        process = cfg.memory(_JM.PROCESS)
        metaspace, overhead = _metaspace_overhead_from_process(cfg, opts, process)
        heap, off_heap = _jm_from_total_flink(cfg, process - metaspace - overhead)
    else:
        raise _fail_not_configured(opts)
    total_flink = _add(heap, off_heap)
    return JobManagerMemory(
        total_process=_add(total_flink, metaspace, overhead),
        total_flink=total_flink,
        jvm_heap=heap,
        off_heap=off_heap,
        jvm_metaspace=metaspace,
        jvm_overhead=overhead,
        jvm_direct_memory_limit=cfg.boolean(_JM.DIRECT_LIMIT),
    )

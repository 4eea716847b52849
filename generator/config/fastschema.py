"""JSON Schema (draft 2020-12) compiled once into Python closures: a fast yes/no answer.

``jsonschema`` re-walks the schema for every instance (keyword dispatch, ``evolve``, ``$ref``
lookups through ``referencing``): validating one rendered document costs milliseconds. Here each
subschema is compiled once per process into a closure that answers "valid?" in microseconds.

The closures only ever say yes or no. When one says no, the caller asks ``jsonschema`` for the
errors, so every message stays exactly ``jsonschema``'s. A schema that uses a keyword this
compiler does not implement is not compiled at all (:class:`Unsupported`): the caller keeps
``jsonschema`` for it. :func:`accelerate` wraps a ``jsonschema`` validator that way.

The target of a ``$ref`` is compiled when an instance first reaches it, so a process pays only for
the parts of big schemas its documents use; an unsupported keyword found there raises
:class:`Unsupported` from the check, and :class:`FastValidator` keeps ``jsonschema`` from then on.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema._utils import equal, uniq
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

Check = Callable[[Any], bool]

__all__ = ["Check", "FastValidator", "Unsupported", "accelerate", "compile_schema"]

# Every keyword jsonschema's 2020-12 validator acts on; keywords outside this set are annotations
# to jsonschema too (description, x-error, x-merge-key, ...) and are ignored here as well.
_ACTING = frozenset(Draft202012Validator.VALIDATORS)
_IMPLEMENTED = frozenset(
    {
        "$ref", "type", "properties", "patternProperties", "additionalProperties", "required",
        "propertyNames", "minProperties", "maxProperties", "items", "minItems", "maxItems", "uniqueItems",
        "enum", "const", "pattern", "minLength", "maxLength", "format", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "not", "allOf", "anyOf", "oneOf", "if", "then", "else",
    }
)  # fmt: skip


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not implement; keep jsonschema for it."""


def _true(_: Any) -> bool:
    return True


def _false(_: Any) -> bool:
    return False


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": _is_number,
    "integer": _is_integer,
}


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _true
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda x: a(x) and b(x)
    frozen = tuple(checks)

    def check(x: Any) -> bool:
        return all(c(x) for c in frozen)

    return check


class _Compiler:
    def __init__(self, registry: Registry[Any], format_checker: FormatChecker | None) -> None:
        self.registry = registry
        self.format_checker = format_checker
        self.memo: dict[int, Check] = {}

    def compile(self, schema: Any, resolver: Any) -> Check:
        if schema is True:
            return _true
        if schema is False:
            return _false
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema is a {type(schema).__name__}")
        key = id(schema)
        found = self.memo.get(key)
        if found is not None:
            return found
        cell: list[Check] = []
        self.memo[key] = lambda x: cell[0](x)  # recursion through $ref sees the final check
        if "$id" in schema:
            resolver = resolver.in_subresource(Resource.from_contents(schema, default_specification=DRAFT202012))
        check = self._build(schema, resolver)
        cell.append(check)
        self.memo[key] = check
        return check

    def _build(self, s: Mapping[str, Any], resolver: Any) -> Check:
        unknown = (set(s) & _ACTING) - _IMPLEMENTED
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        checks: list[Check] = []
        if "$ref" in s:
            checks.append(self._ref(s["$ref"], resolver))
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if any(t not in _TYPES for t in types):
                raise Unsupported(f"type {types}")
            tests = [_TYPES[t] for t in types]
            checks.append(tests[0] if len(tests) == 1 else (lambda x: any(t(x) for t in tests)))
        if "enum" in s:
            enums = list(s["enum"])
            checks.append(lambda x: any(equal(x, e) for e in enums))
        if "const" in s:
            const = s["const"]
            checks.append(lambda x: equal(x, const))
        obj = self._object(s, resolver)
        if obj is not None:
            checks.append(obj)
        arr = self._array(s, resolver)
        if arr is not None:
            checks.append(arr)
        text = self._string(s)
        if text is not None:
            checks.append(text)
        num = self._number(s)
        if num is not None:
            checks.append(num)
        if "not" in s:
            negated = self.compile(s["not"], resolver)
            checks.append(lambda x: not negated(x))
        if "allOf" in s:
            checks.extend(self.compile(sub, resolver) for sub in s["allOf"])
        if "anyOf" in s:
            any_of = [self.compile(sub, resolver) for sub in s["anyOf"]]
            checks.append(lambda x: any(c(x) for c in any_of))
        if "oneOf" in s:
            one_of = [self.compile(sub, resolver) for sub in s["oneOf"]]
            checks.append(lambda x: sum(1 for c in one_of if c(x)) == 1)
        if "if" in s:
            cond = self.compile(s["if"], resolver)
            then = self.compile(s["then"], resolver) if "then" in s else _true
            other = self.compile(s["else"], resolver) if "else" in s else _true
            checks.append(lambda x: then(x) if cond(x) else other(x))
        return _all(checks)

    def _ref(self, ref: str, resolver: Any) -> Check:
        """The target of a ``$ref``, compiled when an instance first reaches it: the big shared
        definitions (Kubernetes' ObjectMeta, ...) are mostly never reached by what gen writes. A
        target that cannot be compiled raises :class:`Unsupported` from the check itself."""
        cell: list[Check] = []

        def check(x: Any) -> bool:
            if not cell:
                resolved = resolver.lookup(ref)
                cell.append(self.compile(resolved.contents, resolved.resolver))
            return cell[0](x)

        return check

    def _object(self, s: Mapping[str, Any], resolver: Any) -> Check | None:
        props = {k: self.compile(v, resolver) for k, v in s.get("properties", {}).items()}
        patterns = [(re.compile(p), self.compile(v, resolver)) for p, v in s.get("patternProperties", {}).items()]
        additional = self.compile(s["additionalProperties"], resolver) if "additionalProperties" in s else None
        required = tuple(s.get("required", ()))
        names = self.compile(s["propertyNames"], resolver) if "propertyNames" in s else None
        min_props, max_props = s.get("minProperties"), s.get("maxProperties")
        if not (props or patterns or additional or required or names) and min_props is None and max_props is None:
            return None

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for name in required:
                if name not in x:
                    return False
            if min_props is not None and len(x) < min_props:
                return False
            if max_props is not None and len(x) > max_props:
                return False
            for key, value in x.items():
                if names is not None and not names(key):
                    return False
                sub = props.get(key)
                matched = sub is not None
                if sub is not None and not sub(value):
                    return False
                for pattern, pcheck in patterns:
                    if pattern.search(key):
                        matched = True
                        if not pcheck(value):
                            return False
                if not matched and additional is not None and not additional(value):
                    return False
            return True

        return check

    def _array(self, s: Mapping[str, Any], resolver: Any) -> Check | None:
        items = self.compile(s["items"], resolver) if "items" in s else None
        min_items, max_items = s.get("minItems"), s.get("maxItems")
        unique = bool(s.get("uniqueItems"))
        if items is None and min_items is None and max_items is None and not unique:
            return None

        def check(x: Any) -> bool:
            if not isinstance(x, list):
                return True
            if min_items is not None and len(x) < min_items:
                return False
            if max_items is not None and len(x) > max_items:
                return False
            if unique and not uniq(x):
                return False
            return items is None or all(items(v) for v in x)

        return check

    def _string(self, s: Mapping[str, Any]) -> Check | None:
        pattern = re.compile(s["pattern"]) if "pattern" in s else None
        min_len, max_len = s.get("minLength"), s.get("maxLength")
        fmt = s.get("format") if self.format_checker is not None else None
        checker = self.format_checker
        if pattern is None and min_len is None and max_len is None and fmt is None:
            return None

        def check(x: Any) -> bool:
            if not isinstance(x, str):
                return fmt is None or checker is None or checker.conforms(x, fmt)
            if min_len is not None and len(x) < min_len:
                return False
            if max_len is not None and len(x) > max_len:
                return False
            if pattern is not None and not pattern.search(x):
                return False
            return fmt is None or checker is None or checker.conforms(x, fmt)

        return check

    def _number(self, s: Mapping[str, Any]) -> Check | None:
        bounds: list[Check] = []
        if "minimum" in s:
            low = s["minimum"]
            bounds.append(lambda x: x >= low)
        if "maximum" in s:
            high = s["maximum"]
            bounds.append(lambda x: x <= high)
        if "exclusiveMinimum" in s:
            xlow = s["exclusiveMinimum"]
            bounds.append(lambda x: x > xlow)
        if "exclusiveMaximum" in s:
            xhigh = s["exclusiveMaximum"]
            bounds.append(lambda x: x < xhigh)
        if not bounds:
            return None
        inner = _all(bounds)
        return lambda x: not _is_number(x) or inner(x)


def compile_schema(
    schema: Mapping[str, Any] | bool,
    registry: Registry[Any] | None = None,
    format_checker: FormatChecker | None = None,
) -> Check:
    """A closure answering whether an instance is valid, exactly as ``Draft202012Validator(schema,
    registry=registry, format_checker=format_checker).is_valid`` would. Raises :class:`Unsupported`
    (the closure itself raises it for an unsupported keyword behind a ``$ref``)."""
    registry = registry if registry is not None else Registry()
    base = schema.get("$id", "") if isinstance(schema, Mapping) else ""
    if base and base not in registry:
        registry = registry.with_resource(base, Resource.from_contents(schema, default_specification=DRAFT202012))
    return _Compiler(registry, format_checker).compile(schema, registry.resolver(base))


class FastValidator:
    """A ``jsonschema`` validator with a compiled fast path: an instance the compiled check accepts
    has no errors; any other goes to ``jsonschema``, which finds and words them."""

    def __init__(self, validator: Any, check: Check) -> None:
        self._validator = validator
        self._check: Check | None = check
        self.schema = validator.schema

    def _valid(self, instance: Any) -> bool:
        """The compiled answer; False (ask jsonschema) once a part could not be compiled."""
        if self._check is None:
            return False
        try:
            return self._check(instance)
        except Unsupported:
            self._check = None
            return False

    def is_valid(self, instance: Any) -> bool:
        return self._valid(instance) or bool(self._validator.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        if self._valid(instance):
            return iter(())
        return iter(self._validator.iter_errors(instance))

    def validate(self, instance: Any) -> None:
        if not self._valid(instance):
            self._validator.validate(instance)

    def __getattr__(self, name: str) -> Any:  # evolve, format_checker, ... of the wrapped validator
        return getattr(self._validator, name)


def accelerate(validator: Any, registry: Registry[Any] | None = None) -> Any:
    """``validator`` (a ``Draft202012Validator``) with the compiled fast path, or unchanged when
    its schema uses a keyword the compiler does not implement."""
    if type(validator).TYPE_CHECKER is not Draft202012Validator.TYPE_CHECKER:
        return validator
    try:
        check = compile_schema(validator.schema, registry, validator.format_checker)
    except Unsupported:
        return validator
    return FastValidator(validator, check)

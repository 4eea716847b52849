"""A compiled yes/no check in front of ``jsonschema`` validators, by ``jsonschema-rs``.

``jsonschema`` re-walks the schema for every instance (keyword dispatch, ``evolve``, ``$ref``
lookups through ``referencing``): validating one rendered document costs milliseconds.
``jsonschema-rs`` compiles the schema once (in Rust) and answers "valid?" in microseconds.

The compiled check only ever says yes or no. When it says no, or cannot answer (a value that is
not JSON, such as a YAML date or a key that is not a string), ``jsonschema`` is asked, so every
error message, and the final word on every instance the check does not accept, stays
``jsonschema``'s. A schema ``jsonschema-rs`` refuses to compile keeps plain ``jsonschema``.

Formats follow the wrapped validator: without a format checker they are annotations, as they are
to ``jsonschema``; with one, every ``format`` is decided by that checker's own ``conforms`` (for
any type of value, as ``jsonschema`` does), so gen's units and the standard formats it checks
accept exactly what ``jsonschema`` accepts.

The ``jsonschema`` validator is built when it is first needed (:func:`validator`): a process whose
documents the compiled checks all accept never imports ``jsonschema`` (nor ``referencing``), which
is a third of the start-up of an incremental render. :func:`accelerate` wraps a
``Draft202012Validator`` that exists already.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import jsonschema_rs

if TYPE_CHECKING:
    from jsonschema import FormatChecker
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

Check = Callable[[Any], bool]
# the schemas a schema's ``$ref``s reach: by URI, or a ``referencing.Registry`` holding them
Resources = Mapping[str, Any]

__all__ = ["Check", "FastValidator", "Formats", "accelerate", "compile_check", "validator"]


class Formats(Protocol):
    """What decides a ``format``: ``jsonschema``'s ``FormatChecker``, or anything with its ``conforms``."""

    def conforms(self, instance: object, format: str) -> bool: ...


# jsonschema-rs registries, one per set of schemas (those are built once per process and kept, so
# their ids stay theirs); the schemas are kept beside their conversion.
_REGISTRIES: dict[int, tuple[Any, jsonschema_rs.Registry]] = {}


def _rs_registry(resources: Resources | Registry[Any]) -> jsonschema_rs.Registry:
    found = _REGISTRIES.get(id(resources))
    if found is None or found[0] is not resources:
        contents = getattr(resources, "contents", None)  # a referencing.Registry: its resources by URI
        pairs = [(uri, contents(uri)) for uri in resources] if callable(contents) else list(resources.items())
        found = (resources, jsonschema_rs.Registry(pairs))
        _REGISTRIES[id(resources)] = found
    return found[1]


def _format_keyword(checker: Formats) -> type:
    """``format`` as ``checker`` decides it (``FormatChecker.conforms``: unknown formats pass)."""

    class Format:
        def __init__(self, parent_schema: Any, value: Any, schema_path: Any) -> None:
            self.format = value

        def validate(self, instance: Any) -> None:
            if not checker.conforms(instance, self.format):
                raise ValueError(f"{instance!r} is not a {self.format!r}")

    return Format


def compile_check(
    schema: Any, registry: Resources | Registry[Any] | None = None, format_checker: Formats | None = None
) -> Check:
    """A function answering whether an instance is valid, as ``Draft202012Validator(schema,
    registry=registry, format_checker=format_checker).is_valid`` does for JSON data (``registry``:
    the schemas by URI, or a ``referencing.Registry``). Raises what ``jsonschema-rs`` raises for a
    schema it cannot compile; the function raises ``ValueError`` for an instance that is not JSON data."""
    keywords = {"format": _format_keyword(format_checker)} if format_checker is not None else None
    compiled = jsonschema_rs.Draft202012Validator(
        schema,
        registry=_rs_registry(registry) if registry is not None else None,
        keywords=keywords,
        validate_formats=False,
        offline=True,
    )
    check: Check = compiled.is_valid
    return check


class FastValidator:
    """A ``jsonschema`` validator with a compiled fast path: an instance the compiled check accepts
    has no errors; any other goes to ``jsonschema``, which finds and words them. The check is
    compiled when the first instance comes, so a process pays only for the schemas it uses; the
    ``jsonschema`` validator (``make``) is built when the check cannot answer yes."""

    def __init__(
        self,
        schema: Any,
        make: Callable[[], Any],
        resources: Resources | Registry[Any] | None = None,
        formats: Formats | None = None,
    ) -> None:
        self.schema = schema
        self.resources = resources  # what the schema's $refs reach
        self.formats = formats  # what decides formats (None: they are annotations)
        self._make = make
        self._built: Any = None
        self._check: Check | None = None
        self._compiled = False

    @property
    def wrapped(self) -> Any:
        """The ``jsonschema`` validator: errors, and the word on what the check refuses."""
        if self._built is None:
            self._built = self._make()
        return self._built

    def _valid(self, instance: Any) -> bool:
        """The compiled answer; False (ask jsonschema) when there is none."""
        if not self._compiled:
            self._compiled = True
            try:
                self._check = compile_check(self.schema, self.resources, self.formats)
            except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError):
                self._check = None  # a schema jsonschema-rs does not take: jsonschema alone
        if self._check is None:
            return False
        try:
            return self._check(instance)
        except (ValueError, RecursionError, jsonschema_rs.ReferencingError):
            return False  # not JSON data (a date, a key that is not a string): jsonschema decides

    def is_valid(self, instance: Any) -> bool:
        return self._valid(instance) or bool(self.wrapped.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        if self._valid(instance):
            return iter(())
        return iter(self.wrapped.iter_errors(instance))

    def validate(self, instance: Any) -> None:
        if not self._valid(instance):
            self.wrapped.validate(instance)

    def __getattr__(self, name: str) -> Any:  # evolve, format_checker, ... of the wrapped validator
        if name.startswith("_") or name in ("wrapped", "schema", "resources", "formats"):
            raise AttributeError(name)  # not set yet (a copy being made): no attribute, rather than a loop
        return getattr(self.wrapped, name)


def validator(
    schema: Any,
    resources: Resources | None = None,
    registry: Callable[[], Registry[Any]] | None = None,
    formats: Formats | None = None,
    format_checker: Callable[[], FormatChecker] | None = None,
) -> FastValidator:
    """A draft 2020-12 validator of ``schema`` with the compiled fast path, its ``$ref``s reaching
    ``resources`` (the schemas by URI) and its formats decided by ``formats``. The ``jsonschema``
    validator behind it is built on first need, with the ``referencing.Registry`` ``registry()``
    (the same schemas) and the format checker ``format_checker()`` (deciding as ``formats`` does)."""

    def make() -> Any:
        from jsonschema import Draft202012Validator

        options: dict[str, Any] = {}
        if registry is not None:
            options["registry"] = registry()
        if format_checker is not None:
            options["format_checker"] = format_checker()
        return Draft202012Validator(schema, **options)

    return FastValidator(schema, make, resources, formats)


def accelerate(validator: Any, registry: Registry[Any] | None = None) -> Any:
    """``validator`` (a ``Draft202012Validator`` whose ``$ref``s resolve in ``registry``) with the
    compiled fast path; any other validator unchanged."""
    from jsonschema import Draft202012Validator

    if type(validator) is not Draft202012Validator:
        return validator
    return FastValidator(validator.schema, lambda: validator, registry, validator.format_checker)

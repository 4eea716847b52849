"""One error root for everything a user can cause.

The library raises; it never prints and never exits. The CLI catches :class:`GenError` once and
turns it into messages and an exit code (2 for bad input or usage).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from generator import credentials


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about an input file, printed as ``file:line:col: key: message (hint: ...)``."""

    file: str
    line: int
    col: int
    key: str
    message: str
    hint: str = ""
    # what was being resolved when a shared layer's line was found wrong (deployments, namespaces):
    # not part of the problem's identity, so the same line is reported once, naming them all
    resolving: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        where = f"{_one_line(self.file)}:{self.line}:{self.col}"
        key = f" {_one_line(self.key)}:" if self.key else ""
        hint = f" (hint: {_one_line(self.hint)})" if self.hint else ""
        return f"{where}:{key} {_one_line(self.message)}{_resolving(self.resolving)}{hint}"


_SHOWN = 3


def _resolving(names: tuple[str, ...]) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:_SHOWN])
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return f" [resolving {shown}{more}]"


def merged(problems: Iterable[Problem]) -> list[Problem]:
    """Problems sorted, each once: the same problem found while resolving several deployments names them all."""
    found: dict[Problem, set[str]] = {}
    for problem in problems:
        found.setdefault(problem, set()).update(problem.resolving)
    return sorted(replace(problem, resolving=tuple(sorted(names))) for problem, names in found.items())


def _one_line(text: str) -> str:
    """One problem is one line: a newline or other control character (in a YAML key, a file name
    or a library's message) is written as an escape; and a message never repeats a credential."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return credentials.redact(text)


class GenError(Exception):
    """Root of every error `gen` raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        hint = f" (hint: {_one_line(self.hint)})" if self.hint else ""
        return [f"error: {_one_line(self.message)}{hint}"]


class InputError(GenError):
    """Bad input: one or more problems, each located in a file."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = merged(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the configuration")

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems] + [f"error: {self.message}"]


class UsageError(GenError):
    """A command line that cannot be carried out (unknown profile, conflicting options, ...)."""


class OutputError(GenError):
    """The output folder cannot be written safely."""


class RenderError(GenError):
    """A rendered document failed validation: a bug in a template or a schema, never silent."""

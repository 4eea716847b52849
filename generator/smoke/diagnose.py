"""The errors a smoke run's processes report in their own output.

Flink's exceptions (``Class: message``, an exception then its causes) and Prometheus' ``level=error``
log lines, each once: the reason a process exited early, and the detail of a check that timed out.
"""

from __future__ import annotations

import re

__all__ = ["flink_errors", "prometheus_errors", "summarize"]


_THROWABLE = re.compile(
    r'^(?:Exception in thread "[^"]*" |Caused by: )?'
    r"(?P<cls>(?:[A-Za-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error))(?::\s?(?P<msg>.*))?$"
)
_PROMETHEUS_ERROR = re.compile(r"level=error .*?msg=(?P<msg>\"[^\"]*\"|\S+)(?: .*?err=(?P<err>\"[^\"]*\"|\S+))?")


_NOISE = ("java.lang.NoClassDefFoundError", "java.lang.ClassNotFoundException")


def flink_errors(output: str, limit: int = 4) -> list[str]:
    """The exceptions in a Flink process' output, each once, as ``Class: message``: in order of
    appearance (an exception, then its causes), except that class-loading errors come last (a JVM
    that shuts down after a failure often cannot load classes any more: noise, not the cause)."""
    found: list[str] = []
    for line in output.splitlines():
        match = _THROWABLE.match(line.strip())
        if match is None:
            continue
        message = match["msg"] or ""
        # a cause whose message the outer exception already quotes adds nothing
        if any(message and message in earlier for earlier in found):
            continue
        text = match["cls"] + (f": {message}" if message else "")
        if text not in found:
            found.append(text)
    if not found:
        found = [line.strip() for line in output.splitlines() if line.startswith("[ERROR]")]
    main = [e for e in found if not e.startswith(_NOISE)]
    return (main + [e for e in found if e.startswith(_NOISE)])[:limit]


def summarize(errors: list[str]) -> str:
    """One line: the first error and, when there is one, the last real cause."""
    main = [e for e in errors if not e.startswith(_NOISE)] or errors
    if not main:
        return ""
    return main[0] + (f" (cause: {main[-1]})" if len(main) > 1 else "")


def prometheus_errors(output: str, limit: int = 3) -> list[str]:
    found: list[str] = []
    for line in output.splitlines():
        match = _PROMETHEUS_ERROR.search(line)
        if match:
            text = match["msg"].strip('"') + (f": {match['err'].strip(chr(34))}" if match["err"] else "")
            if text not in found:
                found.append(text)
    return found[:limit]

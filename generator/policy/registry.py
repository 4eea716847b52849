"""The rule registry: every rule once, under a stable ID that reports, waivers and docs share.

IDs never change meaning and are never reused: a waiver written today must still name the same
check next year. Rules register themselves with :func:`rule`; :func:`all_rules` imports the rule
modules on first use. Each rule's source is the section of docs/readiness.md that describes its
checklist item: the heading is the item's name, the anchor is that heading's slug.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

from generator.policy.model import Check, Priority, Rule, Scope, Severity

_ID = re.compile(r"^[A-Z]{2,4}-[0-9]{3}$")
_RULE_MODULES = (
    "generator.policy.rules_flink",
    "generator.policy.rules_identity",
    "generator.policy.rules_images",
    "generator.policy.rules_observability",
    "generator.policy.rules_resources",
    "generator.policy.rules_memory",
    "generator.policy.rules_exceptions",
)
_RULES: dict[str, Rule] = {}
READINESS_DOC = "docs/readiness.md"


def anchor(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's slugs) gives ``heading``: lower case, punctuation
    dropped, spaces as hyphens."""
    kept = "".join(c for c in heading.strip().lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def readiness_source(item: str) -> str:
    """Where checklist item ``item`` is described: its section of docs/readiness.md."""
    return f"{READINESS_DOC}#{anchor(item)}"


def rule(
    rule_id: str,
    *,
    item: str,
    section: str,
    priority: Priority,
    checks: str,
    scope: Scope = Scope.DEPLOYMENT,
    dev_tolerance: str = "",
    production: Severity = Severity.FAILURE,
    waivable: bool = True,
) -> Callable[[Check], Check]:
    """Register the decorated function as the check of rule ``rule_id``."""
    if not _ID.match(rule_id):
        raise ValueError(f"rule ID {rule_id!r} does not have the form AREA-NNN")

    def register(check: Check) -> Check:
        if rule_id in _RULES:
            raise ValueError(f"rule ID {rule_id} registered twice")
        _RULES[rule_id] = Rule(
            id=rule_id,
            item=item,
            section=section,
            source=readiness_source(item),
            priority=priority,
            checks=checks,
            check=check,
            scope=scope,
            dev_tolerance=dev_tolerance,
            production=production,
            waivable=waivable,
        )
        return check

    return register


def all_rules() -> dict[str, Rule]:
    """Every rule, by ID, in ID order."""
    for module in _RULE_MODULES:
        importlib.import_module(module)
    return dict(sorted(_RULES.items()))

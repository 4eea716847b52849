"""The exception process (docs/readiness.md, "Deployment Templates" and exceptions) and waiver expiry.

PRF-001: a value outside its profile's documented range needs an exception. The exception process
governs deployments: a value an *environment* layer sets outside the range in a development
environment (dev's single JobManager) is that environment's tolerance, so it is a warning there;
anywhere else, and in production always, it fails. A bounded Flink option the target does not
write (``kubernetes.jobmanager.replicas`` on Ververica Platform, where one JobManager runs) is not
checked there; the operator target checks it.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model import keys
from generator.policy.exceptions import bound_path, excepted_paths, needed, out_of_bounds
from generator.policy.model import DEVELOPMENT, Priority, Scope, Severity, Subject, Violation
from generator.policy.registry import rule
from generator.policy.vvp import not_rendered

GOVERNANCE = "Resource sizing guidance: Deployment Templates and namespace defaults"


@rule(
    "PRF-001",
    item="Exception process: profile bounds",
    section=GOVERNANCE,
    priority=Priority.RECOMMENDED,
    checks="every value the profile bounds lies within its documented range, unless the deployment carries a "
    "current exception (reason, benchmark, review-by date) for it; a Flink option the target does not write "
    "(kubernetes.jobmanager.replicas on Ververica Platform) is not checked there",
    waivable=False,
)
def profile_bounds(subject: Subject) -> Iterator[Violation]:
    bounds = subject.model.bounds
    excepted = excepted_paths(subject)
    for dotted, bound in sorted(bounds.items()):
        path = bound_path(dotted)
        value = subject.value(path)
        if value is None or not isinstance(bound, dict) or not_rendered(subject, path):
            continue
        try:
            why = out_of_bounds(path, value, bound)
        except ValueError as exc:
            yield Violation(
                f"{dotted} cannot be compared with its bounds: {exc}", path, value, "fix the value or the bound"
            )
            continue
        if why is None or path in excepted:
            continue
        origin = subject.effective.origin(path)
        by_environment = origin is not None and origin.layer.startswith("environment ")
        tolerated = by_environment and subject.tolerance == DEVELOPMENT
        set_by = f"set by {origin.layer}" if origin is not None else "set"
        yield Violation(
            f"{dotted} = {value} is {why} ({set_by}) and no current exception covers it",
            path,
            value,
            f"stay within [{bound.get('min', '-')}, {bound.get('max', '-')}] or add an exception to the deployment: "
            f"exceptions: [{{path: {dotted}, reason: ..., benchmark: ..., reviewBy: YYYY-MM-DD}}]",
            severity=Severity.WARNING if tolerated else Severity.FAILURE,
        )


@rule(
    "PRF-002",
    item="Exception process: review date",
    section=GOVERNANCE,
    priority=Priority.RECOMMENDED,
    checks="no exception of the deployment is past its review-by date",
    waivable=False,
)
def expired_exceptions(subject: Subject) -> Iterator[Violation]:
    for exception in subject.exceptions:
        if not exception.active(subject.today):
            yield Violation(
                f"the exception for {exception.path} was due for review on {exception.review_by.isoformat()} "
                f"(today is {subject.today.isoformat()}); it no longer applies",
                bound_path(exception.path),
                exception.review_by.isoformat(),
                "review it against a fresh benchmark and set a new reviewBy date, or go back within the bounds",
                exception.location,
                Severity.FAILURE,
            )


@rule(
    "PRF-003",
    item="Exception process: unused exception",
    section=GOVERNANCE,
    priority=Priority.RECOMMENDED,
    production=Severity.WARNING,
    checks="every exception covers a value that needs it (a typo in its path would otherwise hide a real deviation)",
    waivable=False,
)
def unused_exceptions(subject: Subject) -> Iterator[Violation]:
    for exception in subject.exceptions:
        if exception.active(subject.today) and not needed(subject, bound_path(exception.path)):
            yield Violation(
                f"the exception for {exception.path} covers nothing: the value is within the profile's bounds "
                "(or the path is not bounded)",
                bound_path(exception.path),
                subject.value(bound_path(exception.path)),
                "remove the exception, or fix its path (the key of the profile's bounds)",
                exception.location,
            )


@rule(
    "WVR-001",
    item="Waiver expiry",
    section="Governance and compliance (change management)",
    priority=Priority.RECOMMENDED,
    scope=Scope.ANY,
    checks="no waiver that reaches this deployment or namespace is past its expiry date",
    waivable=False,
)
def expired_waivers(subject: Subject) -> Iterator[Violation]:
    for waiver in subject.waivers:
        if not waiver.active(subject.today):
            yield Violation(
                f"the waiver of {waiver.rule} ({waiver.owner}: {waiver.reason}) expired on "
                f"{waiver.expires.isoformat()} (today is {subject.today.isoformat()}); {waiver.rule} is graded again",
                keys.WAIVERS,
                waiver.expires.isoformat(),
                "fix what the rule reports, or renew the waiver with a new expires date after review",
                waiver.location,
                Severity.FAILURE,
            )

"""Rules on resources: CPU limits, slots per TaskManager, namespace quotas.

The rules judge the effective configuration and the rendered containers, ResourceQuotas and
LimitRanges, so they hold for every target. Checklist section "Resource sizing and memory" (Flink's
memory model itself: ``rules_memory``).
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.model import SLOTS
from generator.policy import documents
from generator.policy.exceptions import excepted_paths
from generator.policy.facts import conf_path, large_state, slots, slots_within_policy
from generator.policy.model import Location, Note, Priority, Scope, Subject, Violation
from generator.policy.registry import rule
from generator.policy.vvp import container_note, on_vvp

SIZING = "Resource sizing and memory"


@rule(
    "RES-001",
    item="CPU requests and limits",
    section=SIZING,
    priority=Priority.RECOMMENDED,
    checks="CPU limits are set deliberately for JobManager and TaskManager: kubernetes.<component>.cpu.limit-factor "
    "is set (gen derives every container CPU limit from it: Flink reads it in native mode, on VVP gen writes the "
    "limit into the pod templates)",
)
def cpu_limits(subject: Subject) -> Iterator[Violation | Note]:
    if on_vvp(subject):
        yield container_note("the container CPU limit")
    for component in documents.COMPONENTS:
        key = f"kubernetes.{component}.cpu.limit-factor"
        if key not in subject.conf:
            yield Violation(
                f"the {component} CPU limit is whatever the platform defaults to (usually limit = request)",
                conf_path(key),
                None,
                f"set {key} in the profile after measuring throttling (1.0 pins limit to request)",
            )


@rule(
    "RES-002",
    item="Slots per TaskManager",
    section=SIZING,
    priority=Priority.RECOMMENDED,
    checks="large-state profiles run 1 slot per TaskManager, others at most platform.policy.maxSlotsPerTaskManager "
    "(default 4), unless the deployment carries an exception for taskmanager.numberOfTaskSlots",
)
def slot_layout(subject: Subject) -> Iterator[Violation]:
    path = conf_path(SLOTS)
    if path in excepted_paths(subject) or slots_within_policy(subject):
        return
    count = slots(subject)
    if large_state(subject):
        yield Violation(
            f"{count} slots per TaskManager for a large-state profile: slots share managed memory and RocksDB "
            "instances contend",
            path,
            subject.conf.get(SLOTS),
            "use 1 slot per TaskManager and scale numberOfTaskManagers, or add an exception with a benchmark",
        )
    else:
        yield Violation(
            f"{count} slots per TaskManager (more than {subject.settings.max_slots}) without measured reasons",
            path,
            subject.conf.get(SLOTS),
            "use 2 to 4 slots per TaskManager, or add an exception with a benchmark",
        )


@rule(
    "RES-003",
    item="Namespace quotas and limits",
    section=SIZING,
    priority=Priority.RECOMMENDED,
    scope=Scope.NAMESPACE,
    checks="the namespace has a ResourceQuota with hard limits and a LimitRange",
)
def quotas(subject: Subject) -> Iterator[Violation]:
    location = Location(subject.home_file)
    quota = [q for q in documents.of_kind(subject.documents, "ResourceQuota") if q.get("spec", {}).get("hard")]
    if not quota:
        yield Violation(
            "no ResourceQuota: one runaway deployment can take the cluster's capacity",
            None,
            None,
            "render a ResourceQuota sized from the namespace's deployments",
            location,
        )
    if not documents.of_kind(subject.documents, "LimitRange"):
        yield Violation(
            "no LimitRange: containers without requests or limits are admitted",
            None,
            None,
            "render a LimitRange with default requests and limits",
            location,
        )

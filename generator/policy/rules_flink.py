"""Rules on the Flink configuration: HA, checkpointing, state, restarts, delivery, job shape.

Each rule reads the effective configuration (canonical Flink keys), so it judges every target the
same way. Checklist sections (docs/readiness.md): "Flink application settings", "Object storage and
artifacts", "JobManager sizing", "Disaster recovery and business continuity".
"""

from __future__ import annotations

from collections.abc import Iterator

from generator import targets
from generator.flink import options
from generator.model import HA_STORAGE_DIR, HA_TYPE, JOBMANAGER_REPLICAS, keys
from generator.policy.facts import (
    DURABLE_SCHEMES,
    conf_path,
    count,
    duration_ms,
    fmt_ms,
    ha_enabled,
    jobmanager_count,
    large_state,
    rocksdb_like,
    scheme,
    state_backend,
)
from generator.policy.model import Note, Priority, Severity, Subject, Violation
from generator.policy.registry import rule
from generator.policy.vvp import vvp_jobmanager_recovery

APP = "Flink application settings"
STORAGE = "Object storage and artifacts"

CKP_DIR = "execution.checkpointing.dir"
SVP_DIR = "execution.checkpointing.savepoint-dir"


def _durable(subject: Subject, key: str, what: str) -> Iterator[Violation]:
    value = subject.conf.get(key)
    path = conf_path(key)
    if not value:
        yield Violation(f"{what} is not set", path, None, f"set {key} to an object store URI, e.g. s3://bucket/path")
        return
    found = scheme(value)
    if found not in DURABLE_SCHEMES:
        kind = "a local file system path" if found in ("", "file") else f"'{found}://' storage"
        yield Violation(
            f"{what} is {kind}, not durable shared storage: it is lost with the pod or node",
            path,
            value,
            f"use an object store URI ({', '.join(sorted(DURABLE_SCHEMES - {'s3n', 'viewfs', 'obs', 'cosn'}))})",
        )


@rule(
    "HA-001",
    item="High availability enabled",
    section=APP,
    priority=Priority.REQUIRED,
    checks="high-availability.type is kubernetes (or another HA mode) and high-availability.storageDir is on "
    "durable storage",
)
def high_availability(subject: Subject) -> Iterator[Violation]:
    if not ha_enabled(subject):
        yield Violation(
            "JobManager high availability is off: a JobManager failure loses the running job's coordination",
            conf_path(HA_TYPE),
            subject.conf.get(HA_TYPE),
            f"set {HA_TYPE}: kubernetes and {HA_STORAGE_DIR} on the object store",
        )
        return
    yield from _durable(subject, HA_STORAGE_DIR, "the HA storage directory")


@rule(
    "HA-002",
    item="JobManager replicas",
    section="JobManager sizing",
    priority=Priority.REQUIRED,
    checks="kubernetes.jobmanager.replicas is at least 2 with HA enabled (more than 1 only with HA); on Ververica "
    "Platform, where the JobManager replica count is not controllable (no documented mechanism), Kubernetes HA with "
    "high-availability.storageDir instead",
    dev_tolerance="more than one JobManager replica is asked for production Deployments; one replica is "
    "tolerated outside production",
)
def jobmanager_replicas(subject: Subject) -> Iterator[Violation | Note]:
    if targets.get(subject.target).vvp:
        yield from vvp_jobmanager_recovery(subject)
        return
    key = JOBMANAGER_REPLICAS
    text = subject.conf.get(key, "1")
    replicas = jobmanager_count(subject)
    if replicas > 1 and not ha_enabled(subject):
        yield Violation(
            f"{replicas} JobManager replicas without high availability: standby JobManagers need HA for leader "
            "election",
            conf_path(key),
            text,
            f"enable HA ({HA_TYPE}: kubernetes) or set {key}: 1",
            severity=Severity.FAILURE,
        )
    elif replicas < 2:
        yield Violation(
            f"{replicas} JobManager replica: a JobManager failure waits for a new pod instead of a standby",
            conf_path(key),
            subject.conf.get(key),
            f"set {key}: 2 (with {HA_TYPE}: kubernetes)",
        )


@rule(
    "CKP-001",
    item="Checkpointing enabled",
    section=APP,
    priority=Priority.REQUIRED,
    checks="execution.checkpointing.interval (at least 1s), .timeout, .min-pause and .tolerable-failed-checkpoints "
    "are set explicitly",
)
def checkpointing(subject: Subject) -> Iterator[Violation]:
    interval = duration_ms(subject, "execution.checkpointing.interval")
    key = "execution.checkpointing.interval"
    if interval is None or interval <= 0:
        yield Violation(
            "checkpointing is off: no checkpoint interval",
            conf_path(key),
            subject.conf.get(key),
            f"set {key}, e.g. 60s",
        )
    elif interval < 1000:
        yield Violation(
            f"checkpoint interval {fmt_ms(interval)} is unrealistically short",
            conf_path(key),
            subject.conf.get(key),
            "checkpoint every 10s to a few minutes; measure checkpoint duration first",
        )
    for suffix, example in (("timeout", "10min"), ("min-pause", "30s"), ("tolerable-failed-checkpoints", "3")):
        full = f"execution.checkpointing.{suffix}"
        if full not in subject.conf:
            yield Violation(
                f"{full} is not set explicitly (Flink's default is rarely what a job needs)",
                conf_path(full),
                None,
                f"set {full}, e.g. {example}",
            )
    timeout = duration_ms(subject, "execution.checkpointing.timeout")
    if timeout is not None and timeout <= 0:
        yield Violation(
            "checkpoint timeout must be positive",
            conf_path("execution.checkpointing.timeout"),
            subject.conf.get("execution.checkpointing.timeout"),
            "set it above the longest checkpoint you measured",
        )


@rule(
    "CKP-002",
    item="Checkpoint retention",
    section=STORAGE,
    priority=Priority.REQUIRED,
    checks="execution.checkpointing.num-retained is at least 2 (multiple checkpoints, not just the latest one)",
)
def retained_checkpoints(subject: Subject) -> Iterator[Violation]:
    key = "execution.checkpointing.num-retained"
    text = subject.conf.get(key)
    retained = count(subject, key)
    if retained < 2:
        yield Violation(
            f"only {retained} checkpoint retained: a corrupt latest checkpoint leaves nothing to fall back to",
            conf_path(key),
            text,
            f"set {key}: 3",
        )


@rule(
    "CKP-003",
    item="Externalized checkpoint retention on cancel",
    section=STORAGE,
    priority=Priority.REQUIRED,
    checks="execution.checkpointing.externalized-checkpoint-retention is RETAIN_ON_CANCELLATION",
)
def retention_on_cancel(subject: Subject) -> Iterator[Violation]:
    key = "execution.checkpointing.externalized-checkpoint-retention"
    value = subject.conf.get(key)
    if value != "RETAIN_ON_CANCELLATION":
        yield Violation(
            "checkpoints are deleted when the job is cancelled"
            if value == "DELETE_ON_CANCELLATION"
            else "checkpoints are not retained externally",
            conf_path(key),
            value,
            f"set {key}: RETAIN_ON_CANCELLATION",
        )


@rule(
    "STO-001",
    item="Durable checkpoint and savepoint storage",
    section=STORAGE,
    priority=Priority.REQUIRED,
    checks="execution.checkpointing.dir and .savepoint-dir are object store URIs (never file:// or a pod-local "
    "path); checkpoint storage is not the JobManager's memory",
)
def durable_storage(subject: Subject) -> Iterator[Violation]:
    yield from _durable(subject, CKP_DIR, "the checkpoint directory")
    yield from _durable(subject, SVP_DIR, "the savepoint directory")
    storage = subject.conf.get("execution.checkpointing.storage", "").strip().lower()
    if storage == "jobmanager":
        yield Violation(
            "checkpoints are kept in the JobManager's memory",
            conf_path("execution.checkpointing.storage"),
            subject.conf.get("execution.checkpointing.storage"),
            "set execution.checkpointing.storage: filesystem (with execution.checkpointing.dir on the object store)",
        )


def _norm(uri: str) -> str:
    return uri.rstrip("/") + "/"


@rule(
    "STO-002",
    item="Separation of paths or buckets",
    section=STORAGE,
    priority=Priority.RECOMMENDED,
    checks="checkpoint, savepoint and HA directories are distinct and none lies inside another",
)
def separate_paths(subject: Subject) -> Iterator[Violation]:
    dirs = [k for k in (CKP_DIR, SVP_DIR, HA_STORAGE_DIR) if subject.conf.get(k)]
    if not ha_enabled(subject) and HA_STORAGE_DIR in dirs:
        dirs.remove(HA_STORAGE_DIR)
    for i, first in enumerate(dirs):
        for second in dirs[i + 1 :]:
            a, b = _norm(subject.conf[first]), _norm(subject.conf[second])
            if a.startswith(b) or b.startswith(a):
                relation = "the same path" if a == b else "nested paths"
                yield Violation(
                    f"{first} and {second} are {relation} ({subject.conf[first]}, {subject.conf[second]}): "
                    "retention and cleanup of one touch the other",
                    conf_path(second),
                    subject.conf[second],
                    "give checkpoints, savepoints and HA metadata sibling paths, e.g. <base>/checkpoints, "
                    "<base>/savepoints, <base>/ha",
                )


@rule(
    "STB-001",
    item="State backend selection",
    section=APP,
    priority=Priority.REQUIRED,
    checks="deployments of a large-state profile (platform.policy.largeStateProfiles, default stateful-heavy) use "
    "RocksDB (or ForSt/Gemini)",
)
def state_backend_selection(subject: Subject) -> Iterator[Violation]:
    if large_state(subject) and not rocksdb_like(subject):
        yield Violation(
            f"profile {subject.profile} holds large state, but the state backend is {state_backend(subject)}: "
            "heap state is bounded by the JVM heap and checkpoints copy all of it",
            conf_path("state.backend.type"),
            subject.conf.get("state.backend.type"),
            "set state.backend.type: rocksdb (with execution.checkpointing.incremental: true)",
        )


@rule(
    "STB-002",
    item="Incremental checkpoints",
    section=APP,
    priority=Priority.RECOMMENDED,
    checks="large-state deployments on RocksDB/ForSt enable execution.checkpointing.incremental",
)
def incremental(subject: Subject) -> Iterator[Violation]:
    key = "execution.checkpointing.incremental"
    if large_state(subject) and rocksdb_like(subject) and subject.conf.get(key) != "true":
        yield Violation(
            "full checkpoints of large state: every checkpoint uploads the whole state",
            conf_path(key),
            subject.conf.get(key),
            f"set {key}: true",
        )


_BOUNDED = {"failure-rate", "failurerate", "fixed-delay", "fixeddelay", "exponential-delay", "exponentialdelay"}
_NO_RESTART = {"none", "off", "disable", "no-restart"}


@rule(
    "RST-001",
    item="Restart strategy",
    section=APP,
    priority=Priority.REQUIRED,
    checks="restart-strategy.type is set explicitly to a bounded strategy (failure-rate, fixed-delay, or "
    "exponential-delay with attempts-before-reset-backoff), never 'no restart'",
)
def restart_strategy(subject: Subject) -> Iterator[Violation]:
    key = "restart-strategy.type"
    value = subject.conf.get(key)
    hint = (
        f"set {key}: failure-rate with restart-strategy.failure-rate.max-failures-per-interval, "
        ".failure-rate-interval and .delay"
    )
    if value is None:
        yield Violation("no restart strategy: Flink's default depends on other settings", conf_path(key), None, hint)
        return
    lowered = value.strip().lower()
    if lowered in _NO_RESTART:
        yield Violation("the job is never restarted after a failure", conf_path(key), value, hint)
    elif lowered not in _BOUNDED:
        yield Violation(f"unknown restart strategy '{value}'", conf_path(key), value, hint)
    elif lowered.startswith("exponential") and (
        "restart-strategy.exponential-delay.attempts-before-reset-backoff" not in subject.conf
    ):
        yield Violation(
            "exponential-delay restarts without a bound on attempts",
            conf_path("restart-strategy.exponential-delay.attempts-before-reset-backoff"),
            None,
            "set restart-strategy.exponential-delay.attempts-before-reset-backoff, or use failure-rate",
        )


@rule(
    "EOS-001",
    item="Exactly-once sink semantics",
    section=APP,
    priority=Priority.REQUIRED,
    checks="checkpointing mode is EXACTLY_ONCE; no declared sink (platform.policy.sinks) is at-least-once; each "
    "exactly-once sink's transaction timeout exceeds checkpoint interval + timeout + margin",
    dev_tolerance="At-least-once or idempotent-only sinks may be acceptable for non-critical tests",
)
def exactly_once(subject: Subject) -> Iterator[Violation]:
    mode_key = "execution.checkpointing.mode"
    if subject.conf.get(mode_key, "EXACTLY_ONCE") == "AT_LEAST_ONCE":
        yield Violation(
            "checkpoints are at-least-once: records can be counted twice after a recovery",
            conf_path(mode_key),
            subject.conf.get(mode_key),
            f"set {mode_key}: EXACTLY_ONCE",
        )
    sinks_path = (*keys.POLICY, "sinks")
    interval = duration_ms(subject, "execution.checkpointing.interval") or 0.0
    timeout = duration_ms(subject, "execution.checkpointing.timeout")
    timeout = 600_000.0 if timeout is None else timeout  # Flink's default checkpoint timeout: 10 min
    for sink in subject.settings.sinks:
        delivery_at = subject.item_location(sinks_path, "name", sink.name, "delivery")
        timeout_at = subject.item_location(sinks_path, "name", sink.name, "transactionTimeout") or delivery_at
        if sink.delivery == "at-least-once":
            yield Violation(
                f"sink '{sink.name}' is at-least-once: duplicates reach the downstream system after every recovery",
                sinks_path,
                sink.delivery,
                "use the connector's exactly-once (transactional) mode, or make writes idempotent (upserts by key)",
                delivery_at,
            )
        elif sink.delivery == "exactly-once":
            needed = interval + timeout + subject.settings.transaction_margin_ms
            if sink.transaction_timeout_ms is None:
                yield Violation(
                    f"exactly-once sink '{sink.name}' has no transactionTimeout: gen cannot check it outlives a "
                    "checkpoint",
                    sinks_path,
                    None,
                    f"declare transactionTimeout (at least {fmt_ms(needed)}) and set the same value on the sink",
                    delivery_at,
                )
            elif sink.transaction_timeout_ms < needed:
                yield Violation(
                    f"exactly-once sink '{sink.name}': transaction timeout {fmt_ms(sink.transaction_timeout_ms)} is "
                    f"not safely above checkpoint interval + timeout ({fmt_ms(interval)} + {fmt_ms(timeout)}, margin "
                    f"{fmt_ms(subject.settings.transaction_margin_ms)}): transactions can expire before their "
                    "checkpoint commits them, losing data",
                    sinks_path,
                    fmt_ms(sink.transaction_timeout_ms),
                    f"raise the transaction timeout to at least {fmt_ms(needed)} (within the broker's maximum), or "
                    "lower the checkpoint timeout",
                    timeout_at,
                )


UIDS_SINCE: options.Version = (1, 0)  # pipeline.auto-generate-uids exists in every Flink version gen supports


@rule(
    "UID-001",
    item="Stable operator UIDs",
    section=APP,
    priority=Priority.REQUIRED,
    checks="pipeline.auto-generate-uids is false, so a job without explicit uid() on every operator fails to "
    "start instead of losing state on upgrade",
)
def operator_uids(subject: Subject) -> Iterator[Violation]:
    version = subject.model.flink_version
    if version in options.SUPPORTED_VERSIONS and options.parse_version(version) < UIDS_SINCE:
        return  # pragma: no cover - no supported version lacks the option
    key = "pipeline.auto-generate-uids"
    if subject.conf.get(key) != "false":
        yield Violation(
            "Flink generates operator UIDs: a changed job graph silently fails to map its state on restore",
            conf_path(key),
            subject.conf.get(key),
            f"set {key}: false and give every stateful operator .uid(...)",
        )


@rule(
    "MXP-001",
    item="Explicit maxParallelism",
    section=APP,
    priority=Priority.RECOMMENDED,
    checks="pipeline.max-parallelism is set, at least the parallelism, at most 32768",
)
def max_parallelism(subject: Subject) -> Iterator[Violation]:
    key = "pipeline.max-parallelism"
    text = subject.conf.get(key)
    if text is None:
        yield Violation(
            "maxParallelism is derived from the first parallelism: it can never be raised later without losing state",
            conf_path(key),
            None,
            f"set {key} once, deliberately (e.g. 720: divisible by many parallelisms)",
        )
        return
    value = int(text)
    parallelism = subject.model.parallelism
    if parallelism is not None and value < parallelism:
        yield Violation(
            f"maxParallelism {value} is below the parallelism {parallelism}: the job cannot start",
            conf_path(key),
            text,
            f"raise {key} above the highest parallelism you plan",
        )
    if value > 32768:
        yield Violation(f"maxParallelism {value} is above Flink's limit 32768", conf_path(key), text, "use 32768")


@rule(
    "TTL-001",
    item="State TTL for SQL jobs",
    section=APP,
    priority=Priority.RECOMMENDED,
    checks="SQL jobs (SQLSCRIPT artifacts, or platform.policy.tableApi: true) set table.exec.state.ttl above 0",
)
def state_ttl(subject: Subject) -> Iterator[Violation]:
    if subject.model.artifact.kind != "SQLSCRIPT" and not subject.settings.table_api:
        return
    key = "table.exec.state.ttl"
    ttl = duration_ms(subject, key)
    if ttl is None or ttl <= 0:
        yield Violation(
            "SQL state without TTL grows without bound (joins, aggregations, deduplication)",
            conf_path(key),
            subject.conf.get(key),
            f"set {key} to the longest time a key must be remembered, e.g. 1d",
        )


@rule(
    "UPG-001",
    item="Recovery from latest checkpoint",
    section="Disaster recovery and business continuity",
    priority=Priority.REQUIRED,
    checks="upgradeStrategy is STATEFUL and restoreStrategy is LATEST_STATE, so upgrades and restarts resume from "
    "the latest retained state",
)
def recovery(subject: Subject) -> Iterator[Violation]:
    upgrade = subject.model.upgrade_strategy
    if upgrade != "STATEFUL":
        yield Violation(
            "upgrades do not take a savepoint: state is lost on every change",
            keys.UPGRADE_STRATEGY,
            upgrade,
            "set spec.upgradeStrategy.kind: STATEFUL (a stateless job may waive this rule)",
        )
    restore = subject.model.restore_strategy
    if restore != "LATEST_STATE":
        yield Violation(
            "the job does not resume from the latest checkpoint or savepoint",
            keys.RESTORE_STRATEGY,
            restore,
            "set spec.restoreStrategy.kind: LATEST_STATE",
        )

"""`gen check`: the shipped configuration passes, and each rule catches a minimal violating config.

Each rule case writes a probe deployment (deployments/analytics/probe.yaml) whose marked line
(``# <-``) holds the offending value, runs ``gen check --format json`` in prod and in dev, and checks
the rule's ID, its grading per environment and that the finding names that file and line.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import edit, run_cli

TODAY = "2026-06-01"
PROFILES = ("small", "stateful-heavy", "high-throughput")

BASE = """\
spec:
  template:
    spec:
      artifact:
        jarUri: s3://acme-artifacts/probe/probe-1.0.0.jar
      parallelism: 2
      numberOfTaskManagers: 2
"""


def conf(*lines: str) -> str:
    # a neutral first key keeps the map when the marked line is removed (an empty map would delete it)
    return (
        BASE
        + "      flinkConfiguration:\n        pipeline.name: probe\n"
        + "".join(f"        {line}\n" for line in lines)
    )


def probe(config: Path, body: str, profile: str = "stateful-heavy") -> Path:
    path = config / "deployments" / "analytics" / "probe.yaml"
    path.write_text(f"profile: {profile}\n" + textwrap.dedent(body), encoding="utf-8")
    return path


def marked_line(path: Path) -> int:
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if "# <-" in line]
    assert len(lines) == 1, lines
    return lines[0]


def check(config: Path, env: str, *args: str, today: str = TODAY) -> tuple[int, dict[str, Any]]:
    result = run_cli("check", "-c", str(config), "--env", env, "--format", "json", "--today", today, *args)
    assert result.code in (0, 1), result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["passed"] is (result.code == 0)
    return result.code, data


def findings(data: dict[str, Any], rule: str, deployment: str | None = "probe") -> list[dict[str, Any]]:
    return [
        f
        for c in data["checks"]
        if c["rule"]["id"] == rule and (deployment is None or c["subject"]["deployment"] == deployment)
        for f in c["findings"]
    ]


def statuses(data: dict[str, Any], deployment: str | None = None) -> dict[str, set[str]]:
    """rule -> statuses of its checks (of one deployment, or all)."""
    found: dict[str, set[str]] = {}
    for c in data["checks"]:
        if deployment is None or c["subject"]["deployment"] == deployment:
            found.setdefault(c["rule"]["id"], set()).add(c["status"])
    return found


# -- the shipped example -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", PROFILES)
def test_shipped_prod_passes_for_every_profile(config: Path, profile: str) -> None:
    code, data = check(config, "prod", "--profile", profile)
    assert code == 0
    assert data["summary"]["failed"] == 0
    assert data["summary"]["warning"] == 0
    checked = {c["subject"]["deployment"] for c in data["checks"]} - {None}
    assert len(checked) == 1  # one example deployment per profile
    assert {c["subject"]["profile"] for c in data["checks"] if c["subject"]["deployment"]} == {profile}


def test_shipped_staging_passes(config: Path) -> None:
    code, data = check(config, "staging")
    assert code == 0 and data["summary"]["warning"] == 0


def test_shipped_dev_passes_with_the_tolerated_gaps_listed(config: Path) -> None:
    result = run_cli("check", "-c", str(config), "--env", "dev", "--today", TODAY)
    assert result.code == 0, result.stdout
    assert "PASSED: 0 failed" in result.stdout
    _, data = check(config, "dev")
    warned = {rule for rule, s in statuses(data).items() if "warning" in s}
    # the vendor registry, no TLS (on Ververica Platform the replica count is not controllable: HA-002 checks
    # Kubernetes HA there, which dev has, and PRF-001 does not bound the option gen does not write there)
    assert warned == {"IMG-001", "SEC-001"}
    for rule in warned:
        assert f"WARNING  {rule}" in result.stdout
    dev_file = "environments/dev.yaml"
    assert all(f["location"]["file"].endswith(dev_file) for f in findings(data, "HA-002", None))


def test_every_rule_runs_on_every_subject(config: Path) -> None:
    _, data = check(config, "prod")
    listed = run_cli("check", "--list-rules").stdout
    ids = {line.split()[0] for line in listed.splitlines()[1:]}
    per_subject: dict[str, set[str]] = {}
    for c in data["checks"]:
        per_subject.setdefault(c["subject"]["deployment"] or "", set()).add(c["rule"]["id"])
    assert set().union(*per_subject.values()) == ids
    assert per_subject[""] == {"NET-001", "OBS-002", "RES-003", "WVR-001"}
    assert len(per_subject) == 4  # the namespace and its three deployments


def test_vvp_operator_target_is_graded_the_same(config: Path) -> None:
    code, data = check(config, "prod", "--target", "vvp-operator")
    assert code == 0, [f for c in data["checks"] for f in c["findings"]]


def test_flink_operator_target_is_graded_on_the_same_configuration(config: Path) -> None:
    """The VVP TLS annotation means nothing to the Flink operator: only SEC-001 may tell them apart."""
    code, data = check(config, "prod", "--target", "flink-operator")
    failed = {c["rule"]["id"] for c in data["checks"] if c["status"] == "failed"}
    assert failed <= {"SEC-001"}
    assert all("only works on Ververica Platform" in f["message"] for f in findings(data, "SEC-001", None))
    assert code == (1 if failed else 0)


def test_shipped_sink_declaration_is_judged(config: Path) -> None:
    path = config / "deployments" / "analytics" / "fraud-scoring.yaml"
    edit(path, "transactionTimeout: 15min", "transactionTimeout: 10min")
    line = next(n for n, x in enumerate(path.read_text().splitlines(), 1) if "transactionTimeout: 10min" in x)
    code, data = check(config, "prod", "--deployment", "fraud-scoring")
    assert code == 1
    (finding,) = findings(data, "EOS-001", "fraud-scoring")
    assert "transaction timeout 10min is not safely above checkpoint interval + timeout" in finding["message"]
    assert finding["location"]["line"] == line and finding["location"]["file"].endswith("fraud-scoring.yaml")
    assert "at least 12min" in finding["hint"]  # 60s interval + 10min timeout + 1min margin


# -- one case per rule ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    rule: str
    body: str
    dev: str  # grading of the same finding in dev: "failure" or "warning"
    prod: str = "failure"
    profile: str = "stateful-heavy"
    file: str = "deployments/analytics/probe.yaml"  # where the offending value is
    marker: str = ""  # the offending line in ``file`` when it is not the probe's marked line

    @property
    def id(self) -> str:
        return self.rule


CASES = (
    Case("HA-001", conf("high-availability.type: NONE  # <-"), dev="failure"),
    Case("HA-001", conf("high-availability.storageDir: file:///tmp/ha  # <-"), dev="failure"),
    # on Ververica Platform the replica count is not controllable: HA-002 asks for Kubernetes HA's storage directory
    Case("HA-002", conf("high-availability.storageDir: null  # <-"), dev="warning"),
    Case("CKP-001", conf("execution.checkpointing.interval: null  # <-"), dev="failure"),
    Case("CKP-002", conf("execution.checkpointing.num-retained: 1  # <-"), dev="failure"),
    Case(
        "CKP-003",
        conf("execution.checkpointing.externalized-checkpoint-retention: DELETE_ON_CANCELLATION  # <-"),
        dev="failure",
    ),
    Case("STO-001", conf("execution.checkpointing.dir: file:///tmp/checkpoints  # <-"), dev="failure"),
    Case(
        "STO-002",
        conf('execution.checkpointing.savepoint-dir: "{{ platform.storage.baseUri }}/checkpoints/sp"  # <-'),
        dev="failure",
    ),
    Case("STB-001", conf("state.backend.type: hashmap  # <-"), dev="failure"),
    Case("STB-002", conf("execution.checkpointing.incremental: false  # <-"), dev="failure"),
    Case("RST-001", conf("restart-strategy.type: none  # <-"), dev="failure"),
    Case(
        "EOS-001",
        BASE
        + """\
platform:
  policy:
    sinks:
      - name: payments-out
        delivery: exactly-once
        transactionTimeout: 5min  # <-
""",
        dev="warning",
    ),
    Case(
        "EOS-001",
        BASE
        + """\
platform:
  policy:
    sinks:
      - name: audit-log
        delivery: at-least-once  # <-
""",
        dev="warning",
    ),
    Case("EOS-001", conf("execution.checkpointing.mode: AT_LEAST_ONCE  # <-"), dev="warning"),
    Case("UID-001", conf("pipeline.auto-generate-uids: true  # <-"), dev="failure"),
    Case("MXP-001", conf("pipeline.max-parallelism: 1  # <-"), dev="failure"),
    Case(
        "TTL-001",
        conf("table.exec.state.ttl: 0  # <-") + "platform:\n  policy:\n    tableApi: true\n",
        dev="failure",
    ),
    Case(
        "UPG-001",
        "spec:\n  upgradeStrategy:\n    kind: STATELESS  # <-\n" + BASE.removeprefix("spec:\n"),
        dev="failure",
    ),
    Case(
        "SEC-001",
        BASE + '    metadata:\n      annotations:\n        flink.security.ssl.enabled: "false"  # <-\n',
        dev="warning",
    ),
    Case(
        "SEC-002",
        BASE + "      kubernetes:\n        pods:\n          securityContext:\n            runAsUser: 0  # <-\n",
        dev="warning",
    ),
    Case(
        "IMG-001",
        BASE.replace("probe-1.0.0.jar\n", "probe-1.0.0.jar\n        flinkImageRegistry: docker.io/library  # <-\n"),
        dev="warning",
    ),
    Case(
        "IMG-002",
        BASE.replace("probe-1.0.0.jar\n", "probe-1.0.0.jar\n        flinkImageTag: nightly  # <-\n"),
        dev="failure",
    ),
    Case("RES-001", conf("kubernetes.taskmanager.cpu.limit-factor: null  # <-"), dev="failure"),
    Case("RES-002", conf("taskmanager.numberOfTaskSlots: 2  # <-"), dev="failure"),
    Case("MEM-001", conf("taskmanager.memory.managed.size: 20g  # <-"), dev="failure"),
    Case("MEM-002", conf("jobmanager.memory.off-heap.size: 3g  # <-"), dev="failure"),
    Case("MEM-004", conf("taskmanager.memory.managed.fraction: 0.01  # <-"), dev="warning", prod="warning"),
    Case("MEM-005", conf("jobmanager.memory.off-heap.size: 1500m  # <-"), dev="warning", prod="warning"),
    Case(
        "MEM-005",
        conf("taskmanager.memory.managed.fraction: 0.7  # <-"),
        dev="warning",
        prod="warning",
        profile="small",
    ),
    Case("PRF-001", BASE.replace("numberOfTaskManagers: 2", "numberOfTaskManagers: 100  # <-"), dev="failure"),
)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}-{i}" for i, c in enumerate(CASES)])
def test_rule_catches_violation_with_its_location(config: Path, case: Case) -> None:
    path = probe(config, case.body, case.profile)
    line = marked_line(path)
    for env, expected in (("prod", case.prod), ("dev", case.dev)):
        code, data = check(config, env, "--deployment", "probe")
        found = findings(data, case.rule)
        assert found, f"{case.rule} found nothing in {env}: {statuses(data, 'probe')}"
        located = [f for f in found if f["location"]["file"].endswith(case.file) and f["location"]["line"] == line]
        assert located, found
        assert {f["severity"] for f in located} == {expected}, (env, located)
        assert all(f["hint"] and f["message"] for f in located)
        if expected == "failure":
            assert code == 1
    # the probe without the offending line passes the rule
    probe(config, BASE, case.profile)
    _, data = check(config, "prod", "--deployment", "probe")
    assert not findings(data, case.rule)


def test_profile_bounds_tolerate_environment_values_only_in_development(config: Path) -> None:
    """dev's own JobManager count is its tolerance (warning); the same value from a deployment fails.
    On the operator target, where the count is the FlinkDeployment's jobManager.replicas."""
    operator = ("--target", "flink-operator")
    probe(config, BASE)
    _, dev = check(config, "dev", "--deployment", "probe", *operator)
    assert {f["severity"] for f in findings(dev, "PRF-001")} == {"warning"}
    edit(
        config / "environments" / "prod.yaml",
        "      kubernetes:\n        pods:\n",
        "      flinkConfiguration:\n        kubernetes.jobmanager.replicas: 1\n      kubernetes:\n        pods:\n",
    )
    code, data = check(config, "prod", "--deployment", "probe", *operator)
    assert code == 1
    assert {f["severity"] for f in findings(data, "PRF-001")} == {"failure"}
    assert findings(data, "PRF-001")[0]["location"]["file"].endswith("environments/prod.yaml")
    # on Ververica Platform gen does not write the option (one JobManager runs): its bounds are not checked
    for target in ("vvp", "vvp-operator"):
        _, data = check(config, "prod", "--deployment", "probe", "--target", target)
        assert findings(data, "PRF-001") == [], target


@pytest.mark.parametrize("target", ["vvp", "vvp-operator"])
def test_vvp_resources_do_not_carry_the_jobmanager_replica_option(config: Path, target: str) -> None:
    """kubernetes.jobmanager.replicas is the operator's (native mode) option: never written for VVP."""
    out = config / "out"
    result = run_cli("render", "-c", str(config), "--env", "prod", "--target", target, "--out", str(out))
    assert result.code == 0, result.stderr
    written = [p for p in out.rglob("*.yaml") if "flinkConfiguration" in p.read_text()]
    assert written
    for path in written:
        assert "kubernetes.jobmanager.replicas" not in path.read_text(), path
    operator = config / "operator-out"
    result = run_cli("render", "-c", str(config), "--env", "prod", "--target", "flink-operator", "--out", str(operator))
    assert result.code == 0, result.stderr
    replicas = [
        doc["spec"]["jobManager"]["replicas"]
        for path in operator.rglob("*.yaml")
        for doc in [yaml.safe_load(path.read_text())]
        if isinstance(doc, dict) and doc.get("kind") == "FlinkDeployment"
    ]
    assert replicas and set(replicas) == {2}


def test_one_replica_on_the_flink_operator_is_a_finding(config: Path) -> None:
    path = probe(config, conf("kubernetes.jobmanager.replicas: 1  # <-"))
    _, data = check(config, "prod", "--deployment", "probe", "--target", "flink-operator")
    found = findings(data, "HA-002")
    assert [f["severity"] for f in found] == ["failure"]
    assert found[0]["location"]["line"] == marked_line(path)


def test_on_vvp_the_replica_count_is_not_what_ha_002_grades(config: Path) -> None:
    """VVP documents no way to run standby JobManagers: one replica passes with Kubernetes HA, and without it
    the finding says the count is not controllable there."""
    probe(config, conf("kubernetes.jobmanager.replicas: 1"))
    _, data = check(config, "prod", "--deployment", "probe")
    assert findings(data, "HA-002") == []
    probe(config, conf("high-availability.type: NONE  # <-", "kubernetes.jobmanager.replicas: 2"))
    _, data = check(config, "prod", "--deployment", "probe")
    found = findings(data, "HA-002")
    assert [f["severity"] for f in found] == ["failure"]
    assert "not controllable on Ververica Platform" in found[0]["message"]
    assert found[0]["path"] == "spec.template.spec.flinkConfiguration.high-availability.type"


def test_exactly_once_sink_with_safe_timeout_passes(config: Path) -> None:
    probe(
        config,
        BASE
        + "platform:\n  policy:\n    sinks:\n"
        + "      - {name: scores, delivery: exactly-once, transactionTimeout: 15min}\n"
        + "      - {name: cache, delivery: idempotent}\n",
    )
    code, data = check(config, "prod", "--deployment", "probe")
    assert code == 0
    assert not findings(data, "EOS-001")


# -- exceptions ----------------------------------------------------------------------------------------------------
EXCEPTION = """\
exceptions:
  - path: spec.template.spec.numberOfTaskManagers
    reason: 100 partitions of the payments topic, one TaskManager each
    benchmark: LOAD-142 (2026-05 replay of Black Friday traffic)
    reviewBy: 2026-12-31  # <-
    owner: fraud-team
"""


def test_exception_covers_out_of_bounds_value_and_is_listed(config: Path) -> None:
    probe(config, BASE.replace("numberOfTaskManagers: 2", "numberOfTaskManagers: 100") + EXCEPTION)
    code, data = check(config, "prod", "--deployment", "probe")
    assert code == 0, findings(data, "PRF-001")
    assert [(e["path"], e["status"], e["owner"]) for e in data["exceptions"]] == [
        ("spec.template.spec.numberOfTaskManagers", "applied", "fraud-team")
    ]
    text = run_cli("check", "-c", str(config), "-e", "prod", "-d", "probe", "--today", TODAY).stdout
    assert "Exceptions:" in text and "LOAD-142" in text and "applied" in text


def test_expired_exception_fails_naming_the_date(config: Path) -> None:
    path = probe(config, BASE.replace("numberOfTaskManagers: 2", "numberOfTaskManagers: 100") + EXCEPTION)
    for env in ("prod", "dev"):
        code, data = check(config, env, "--deployment", "probe", today="2027-01-01")
        assert code == 1
        expired = findings(data, "PRF-002")
        assert len(expired) == 1 and expired[0]["severity"] == "failure"
        assert "2026-12-31" in expired[0]["message"] and "2027-01-01" in expired[0]["message"]
        assert expired[0]["location"]["line"] == marked_line(path)
        assert expired[0]["location"]["file"].endswith("deployments/analytics/probe.yaml")
        assert findings(data, "PRF-001")  # the value is no longer covered
        assert data["exceptions"][0]["status"] == "expired"
    # the review date itself is still valid
    code, _ = check(config, "prod", "--deployment", "probe", today="2026-12-31")
    assert code == 0


def test_unused_exception_is_a_warning(config: Path) -> None:
    probe(config, BASE + EXCEPTION)  # 2 TaskManagers: within the bounds
    code, data = check(config, "prod", "--deployment", "probe")
    assert code == 0
    unused = findings(data, "PRF-003")
    assert len(unused) == 1 and unused[0]["severity"] == "warning"
    assert data["exceptions"][0]["status"] == "unused"


def test_slot_exception_allows_unusual_slot_layout(config: Path) -> None:
    body = conf("taskmanager.numberOfTaskSlots: 2") + EXCEPTION.replace(
        "spec.template.spec.numberOfTaskManagers", "spec.template.spec.flinkConfiguration.taskmanager.numberOfTaskSlots"
    )
    probe(config, body)
    code, data = check(config, "prod", "--deployment", "probe")
    assert code == 0, statuses(data, "probe")
    assert not findings(data, "RES-002") and not findings(data, "PRF-001")
    assert data["exceptions"][0]["status"] == "applied"


# -- waivers -------------------------------------------------------------------------------------------------------
WAIVER = """\
waivers:
  - rule: RST-001
    reason: replay job, restarted by its scheduler
    owner: data-platform
    expires: 2026-09-30  # <-
"""


def test_waiver_turns_findings_into_waived_and_is_listed(config: Path) -> None:
    probe(config, conf("restart-strategy.type: none") + WAIVER)
    code, data = check(config, "prod", "--deployment", "probe")
    assert code == 0
    assert statuses(data, "probe")["RST-001"] == {"waived"}
    assert all(f["waived"] for f in findings(data, "RST-001"))
    assert [(w["rule"], w["status"], w["applied_to"]) for w in data["waivers"]] == [
        ("RST-001", "applied", ["prod/analytics/probe"])
    ]
    text = run_cli("check", "-c", str(config), "-e", "prod", "-d", "probe", "--today", TODAY).stdout
    assert "WAIVED   RST-001" in text and "Waivers:" in text and "data-platform" in text


def test_expired_waiver_fails_naming_the_date(config: Path) -> None:
    path = probe(config, conf("restart-strategy.type: none") + WAIVER)
    code, data = check(config, "prod", "--deployment", "probe", today="2026-10-01")
    assert code == 1
    assert statuses(data, "probe")["RST-001"] == {"failed"}
    expired = findings(data, "WVR-001")
    assert len(expired) == 1 and expired[0]["severity"] == "failure"
    assert "expired on 2026-09-30" in expired[0]["message"]
    assert expired[0]["location"]["line"] == marked_line(path)
    assert data["waivers"][0]["status"] == "expired"
    # dev cannot tolerate an expired waiver either
    code, data = check(config, "dev", "--deployment", "probe", today="2026-10-01")
    assert code == 1 and findings(data, "WVR-001")[0]["severity"] == "failure"


def test_namespace_waiver_reaches_every_deployment_and_expires_once(config: Path) -> None:
    namespace = config / "namespaces" / "analytics.yaml"
    namespace.write_text(namespace.read_text() + WAIVER.replace("RST-001", "IMG-001").replace("  # <-", ""))
    _, data = check(config, "dev")
    assert statuses(data)["IMG-001"] == {"waived"}
    assert data["waivers"][0]["status"] == "applied"
    assert len(data["waivers"][0]["applied_to"]) == 3
    code, data = check(config, "dev", today="2026-10-01")
    assert code == 1
    assert len(findings(data, "WVR-001", None)) == 1  # one waiver, reported once
    assert statuses(data)["IMG-001"] == {"warning"}


def test_unused_waiver_is_listed(config: Path) -> None:
    probe(config, BASE + WAIVER)
    code, data = check(config, "prod", "--deployment", "probe")
    assert code == 0
    assert data["waivers"][0]["status"] == "unused"


def test_today_from_environment_variable(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe(config, conf("restart-strategy.type: none") + WAIVER)
    monkeypatch.setenv("GEN_TODAY", "2026-10-01")
    result = run_cli("check", "-c", str(config), "-e", "prod", "-d", "probe", "-f", "json")
    assert result.code == 1
    assert json.loads(result.stdout)["today"] == "2026-10-01"


# -- bad input: exit 2, located, no traceback ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "message", "at"),
    [
        (WAIVER.replace("    owner: data-platform\n", ""), "missing required key: 'owner'", "- rule: RST-001"),
        (WAIVER.replace("RST-001", "RST-999"), "unknown rule 'RST-999'", "rule: RST-999"),
        (WAIVER.replace("RST-001", "rst-1"), "does not have the expected form", "rule: rst-1"),
        (WAIVER.replace("RST-001", "PRF-001"), "rule PRF-001 cannot be waived", "rule: PRF-001"),
        (WAIVER.replace("2026-09-30", "2026-02-30"), "waivers[0].expires", "expires: 2026-02-30"),
        (
            EXCEPTION.replace("    benchmark: LOAD-142 (2026-05 replay of Black Friday traffic)\n", ""),
            "missing required key: 'benchmark'",
            "- path:",
        ),
        (EXCEPTION.replace("2026-12-31", "next year"), "does not have the expected form", "reviewBy: next year"),
        (
            "platform:\n  policy:\n    approvedRegistries: [https://registry.acme.internal]\n",
            "does not have the expected form",
            "approvedRegistries",
        ),
        (
            "platform:\n  policy:\n    sinks:\n      - {name: x, delivery: maybe-once}\n",
            '"maybe-once" is not one of',
            "maybe-once",
        ),
    ],
)
def test_malformed_policy_input_is_located(config: Path, body: str, message: str, at: str) -> None:
    path = probe(config, BASE + body)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if at in text)
    result = run_cli("check", "-c", str(config), "-e", "prod", "--today", TODAY)
    assert result.code == 2, result.stdout
    assert message in result.stderr
    assert f"deployments/analytics/probe.yaml:{line}:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{min: 2g, max: 4g}", "{min: 2g, max: lots}", "memory.max: 'lots' cannot bound this value"),
        ("{min: 1, max: 2}", "{min: null, max: 2}", "numberOfTaskManagers.min: null is not a bound: expected a number"),
        ("{min: 1, max: 2}", "{min: 1, max: .inf}", "numberOfTaskManagers.max: inf cannot bound this value"),
        ("{min: 0.5, max: 1}", "{min: null, max: 1}", "jobmanager.cpu.min: null is not a bound: expected a CPU amount"),
    ],
)
def test_bad_bound_in_profile_is_located(config: Path, old: str, new: str, message: str) -> None:
    profile = config / "profiles" / "small.yaml"
    edit(profile, old, new)
    line = next(n for n, text in enumerate(profile.read_text().splitlines(), 1) if new in text)
    result = run_cli("check", "-c", str(config), "-e", "prod")
    assert result.code == 2, result.stdout + result.stderr
    assert f"profiles/small.yaml:{line}:" in result.stderr and message in result.stderr, result.stderr
    assert "internal error" not in result.stderr


def test_a_bound_on_a_map_is_a_finding_not_a_crash(config: Path) -> None:
    profile = config / "profiles" / "small.yaml"
    edit(profile, "bounds:\n", "bounds:\n  spec.template.spec.resources: {max: 2}\n")
    code, data = check(config, "prod")
    assert code == 1
    found = [f["message"] for f in findings(data, "PRF-001", deployment="clickstream-sessions")]
    assert "spec.template.spec.resources cannot be compared with its bounds: expected a number, got a map" in found


def test_exceptions_belong_to_deployments_only(config: Path) -> None:
    env = config / "environments" / "prod.yaml"
    env.write_text(env.read_text() + EXCEPTION)
    result = run_cli("check", "-c", str(config), "-e", "prod")
    assert result.code == 2
    assert "environments/prod.yaml:" in result.stderr and "exceptions: unknown key" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--today", "yesterday"), "is not a date"),
        ((), "gen check needs --env"),
        (("--env", "nope"), "unknown environment 'nope'"),
        (("--env", "prod", "--profile", "huge"), "unknown profile 'huge'"),
    ],
)
def test_usage_errors(config: Path, args: tuple[str, ...], message: str) -> None:
    if args and args[0] == "--today":
        args = ("--env", "prod", *args)
    result = run_cli("check", "-c", str(config), *args)
    assert result.code == 2
    assert message in result.stderr

"""Ververica Platform does not auto-provision TLS for session clusters ("SSL/TLS has to be configured
manually", https://docs.ververica.com/vvp/user-guide/application-operations/session-clusters): the
SessionCluster carries no TLS annotation, and gen check fails the TLS rule of a production session-mode
deployment unless Flink's security.ssl options are set for the cluster."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import edit, run_cli

TODAY = "2026-12-01"
MANUAL_TLS = """\
  template:
    spec:
      flinkConfiguration:
        security.ssl.internal.enabled: true
        security.ssl.rest.enabled: true
        security.ssl.internal.keystore: /etc/flink/tls/keystore.jks
        security.ssl.internal.truststore: /etc/flink/tls/truststore.jks
        security.ssl.rest.keystore: /etc/flink/tls/keystore.jks
        security.ssl.rest.truststore: /etc/flink/tls/truststore.jks
"""


@pytest.fixture
def session(config: Path) -> Path:
    edit(
        config / "namespaces/analytics.yaml",
        '  deploymentTargetName: "{{ namespace }}"\n',
        "  sessionClusterName: shared\n",
    )
    for name in ("events-ingest", "fraud-scoring", "clickstream-sessions"):
        path = config / f"deployments/analytics/{name}.yaml"
        text = re.sub(r"      numberOfTaskManagers: \d+\n", "", path.read_text())
        path.write_text(re.sub(r"      parallelism: \d+\n", "      parallelism: 1\n", text))
    # jobs that take the profile's parallelism fit the one-slot session cluster too
    small = config / "profiles/small.yaml"
    small.write_text(re.sub(r"      parallelism: \d+\n", "      parallelism: 1\n", small.read_text()))
    return config


def tls_findings(config: Path, env: str) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli("check", "-c", str(config), "--env", env, "--format", "json", "--today", TODAY)
    assert result.code in (0, 1), result.stdout + result.stderr
    data = json.loads(result.stdout)
    checks = [c for c in data["checks"] if c["rule"]["id"] == "SEC-001" and c["subject"]["deployment"]]
    assert checks
    return result.code, [f | {"status": c["status"]} for c in checks for f in c["findings"]]


def test_prod_session_cluster_without_manual_tls_fails_the_tls_rule(session: Path) -> None:
    code, found = tls_findings(session, "prod")
    assert code == 1
    assert found and all(f["status"] == "failed" for f in found)
    assert all("does not provision TLS for session clusters" in f["message"] for f in found)
    assert all("configure TLS manually" in f["hint"] for f in found)


def test_manual_tls_for_the_session_cluster_passes(session: Path, tmp_path: Path) -> None:
    edit(
        session / "namespaces/analytics.yaml",
        "  sessionClusterName: shared\n",
        "  sessionClusterName: shared\n" + MANUAL_TLS,
    )
    _, found = tls_findings(session, "prod")
    assert found == []
    out = tmp_path / "out"
    result = run_cli("render", "-c", str(session), "--env", "prod", "--out", str(out))
    assert result.code == 0, result.stderr
    cluster = yaml.safe_load((out / "prod/analytics/vvp/sessioncluster-shared.yaml").read_text())
    assert cluster["spec"]["flinkConfiguration"]["security.ssl.internal.enabled"] == "true"
    assert "annotations" not in cluster["metadata"]


def test_application_mode_keeps_the_annotation(config: Path) -> None:
    code, found = tls_findings(config, "prod")
    assert code == 0 and found == []

"""Secrets by reference only: a credential written into the configuration is a located error, a
reference renders, and no file gen writes (nor any message it prints) contains the secret."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from generator.config.secrets import REFERENCE, is_credential_key
from tests.conftest import edit, run_cli

# Planted credentials (AWS's documented example keys and made-up passwords): none may ever appear
# in a rendered file or in gen's output.
S3_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
S3_ACCESS = "AKIAIOSFODNN7EXAMPLE"
KAFKA_PASSWORD = "hunter2-kafka-Pa55"
DB_PASSWORD = "s3cr3t-db-Pa55"
PLANTED = (S3_SECRET, S3_ACCESS, KAFKA_PASSWORD, DB_PASSWORD)
LOCATED = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<key>[^:]+): (?P<msg>.+)$", re.M)
PROD = "environments/prod.yaml"
ANCHOR = "      kubernetes:\n        pods:\n          nodeSelector:\n"


def assert_clean(*texts: str, out: Path | None = None) -> None:
    """Neither the given texts (stdout, stderr) nor any file under ``out`` contains a planted secret."""
    for text in texts:
        for secret in PLANTED:
            assert secret not in text
    if out is not None and out.exists():
        files = [p for p in out.rglob("*") if p.is_file()]
        for path in files:
            content = path.read_text(errors="replace")
            for secret in PLANTED:
                assert secret not in content, f"{secret!r} in {path}"


def add_flink_conf(config: Path, file: str, lines: str) -> Path:
    path = config / file
    edit(path, ANCHOR, "      flinkConfiguration:\n" + lines + ANCHOR)
    return path


def add_env_vars(config: Path, entries: str) -> None:
    edit(
        config / "namespaces/analytics.yaml",
        "spec:\n",
        "spec:\n  template:\n    spec:\n      kubernetes:\n        pods:\n          envVars:\n" + entries,
    )


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def render(config: Path, out: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli("render", "--config", str(config), "--out", str(out), *args)
    return result.code, result.stdout, result.stderr


# -- the rule --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    [
        "s3.secret-key",
        "s3.access-key",
        "fs.s3a.secret.key",
        "fs.s3a.access.key",
        "fs.s3a.session.token",
        "sasl.jaas.config",
        "properties.sasl.jaas.config",
        "security.ssl.internal.keystore-password",
        "security.ssl.rest.truststore-password",
        "database.password",
        "fs.azure.account.key.acme.blob.core.windows.net",
        "gs.auth.client.secret",
    ],
)
def test_credential_keys(key: str) -> None:
    assert is_credential_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "s3.endpoint",
        "s3.path.style.access",
        "kubernetes.secrets",
        "kubernetes.env.secretKeyRef",
        "security.delegation.tokens.enabled",
        "fs.s3a.aws.credentials.provider",
        "high-availability.storageDir",
        "security.ssl.internal.enabled",
    ],
)
def test_keys_that_are_not_credentials(key: str) -> None:
    assert not is_credential_key(key)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("${secret_values.s3-secret-key}", True),
        ("${S3_SECRET_KEY}", True),
        ("${secret_values.}", False),
        ("$S3_SECRET_KEY", False),
        ("prefix-${S3_SECRET_KEY}", False),
        (S3_SECRET, False),
    ],
)
def test_what_a_reference_is(text: str, ok: bool) -> None:
    assert (REFERENCE.match(text) is not None) is ok


# -- must show: a planted S3 secret key fails with exit 2, file and line ---------------------------
def test_s3_secret_key_in_prod_fails_with_exit_2_naming_file_and_line(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    assert render(config, out)[0] == 0
    before = sorted(p.read_bytes() for p in out.rglob("*") if p.is_file())
    path = add_flink_conf(config, PROD, f"        s3.secret-key: {S3_SECRET}\n")
    code, stdout, stderr = render(config, out, "--profile", "stateful-heavy", "--env", "prod")
    assert code == 2, stderr
    located = [m for m in LOCATED.finditer(stderr) if m["file"].endswith(PROD)]
    assert located, stderr
    assert int(located[0]["line"]) == line_of(path, "s3.secret-key")
    assert located[0]["key"] == "spec.template.spec.flinkConfiguration.s3.secret-key"
    assert "credential in plain text" in stderr and "${secret_values.NAME}" in stderr  # the hint
    assert "Traceback" not in stderr
    assert sorted(p.read_bytes() for p in out.rglob("*") if p.is_file()) == before  # nothing written
    assert_clean(stdout, stderr, out=out)


@pytest.mark.parametrize("target", ["vvp", "vvp-operator"])
def test_the_same_secret_as_a_reference_renders_and_only_the_reference_is_written(
    tmp_path: Path, config: Path, target: str
) -> None:
    add_flink_conf(
        config, PROD, "        s3.secret-key: ${secret_values.s3-secret-key}\n        s3.access-key: ${S3_ACCESS_KEY}\n"
    )
    add_env_vars(
        config,
        "            - name: S3_ACCESS_KEY\n              valueFrom:\n"
        "                secretKeyRef: {name: s3-credentials, key: access-key}\n",
    )
    out = tmp_path / "out"
    code, stdout, stderr = render(config, out, "--env", "prod", "--target", target)
    assert code == 0, stderr
    name = "vvp/deployment-fraud-scoring.yaml" if target == "vvp" else "vvpdeployment-fraud-scoring.yaml"
    text = (out / "prod/analytics" / name).read_text()
    assert "s3.secret-key: ${secret_values.s3-secret-key}" in text
    assert "s3.access-key: ${S3_ACCESS_KEY}" in text
    assert "secretKeyRef:" in text and "name: s3-credentials" in text
    assert_clean(stdout, stderr, out=out)


# -- more ways to leak a credential ---------------------------------------------------------------
CASES = [
    (
        "s3-access-key-in-profile",
        "profiles/small.yaml",
        ("      flinkConfiguration:\n", f"      flinkConfiguration:\n        s3.access-key: {S3_ACCESS}\n"),
        "s3.access-key",
        "credential in plain text",
    ),
    (
        "kafka-jaas-password",
        "deployments/analytics/events-ingest.yaml",
        (
            "      numberOfTaskManagers: 4\n",
            "      numberOfTaskManagers: 4\n      flinkConfiguration:\n        properties.sasl.jaas.config: "
            f'org.apache.kafka.common.security.plain.PlainLoginModule required username="ingest" '
            f'password="{KAFKA_PASSWORD}";\n',
        ),
        "properties.sasl.jaas.config",
        "credential in plain text",
    ),
    (
        "access-key-id-in-another-option",
        "deployments/analytics/fraud-scoring.yaml",
        (
            "      parallelism: 4\n",
            f"      parallelism: 4\n      flinkConfiguration:\n        s3.custom.id: {S3_ACCESS}\n",
        ),
        "s3.custom.id",
        "AWS access key id in plain text",
    ),
    (
        "password-in-a-jdbc-uri",
        "deployments/analytics/fraud-scoring.yaml",
        (
            "      parallelism: 4\n",
            "      parallelism: 4\n      flinkConfiguration:\n"
            f"        lookup.url: jdbc:postgresql://fraud:{DB_PASSWORD}@db.acme.internal/features\n",
        ),
        "lookup.url",
        "password in a URI",
    ),
    (
        "password-in-an-env-var",
        "namespaces/analytics.yaml",
        (
            "spec:\n",
            "spec:\n  template:\n    spec:\n      kubernetes:\n        pods:\n          envVars:\n"
            f"            - name: DB_PASSWORD\n              value: {DB_PASSWORD}\n",
        ),
        "envVars:",  # the list as a whole is the value a layer sets
        "environment variable DB_PASSWORD holds a credential in plain text",
    ),
    (
        "password-in-the-helm-datasource-url",
        "environments/prod.yaml",
        ('5432/vvp"', f'5432/vvp?user=vvp&password={DB_PASSWORD}"'),
        "password=",
        "the JDBC URL contains a password",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_plain_credentials_are_located_errors_that_do_not_repeat_the_secret(
    tmp_path: Path, config: Path, case: tuple[str, str, tuple[str, str], str, str]
) -> None:
    _name, file, (old, new), marker, message = case
    path = config / file
    edit(path, old, new)
    out = tmp_path / "out"
    code, stdout, stderr = render(config, out, "--env", "prod")
    assert code == 2, stderr
    located = [m for m in LOCATED.finditer(stderr) if m["file"].endswith(file)]
    assert located and int(located[0]["line"]) == line_of(path, marker), stderr
    assert message in stderr
    assert not out.exists()
    assert_clean(stdout, stderr, out=out)


def test_an_env_reference_must_come_from_a_secret(tmp_path: Path, config: Path) -> None:
    add_flink_conf(config, PROD, "        s3.secret-key: ${S3_SECRET_KEY}\n")
    code, _, stderr = render(config, tmp_path / "a", "--env", "prod")
    assert code == 2
    assert "no envVars entry named S3_SECRET_KEY brings it from a Kubernetes Secret" in stderr
    add_env_vars(
        config,
        "            - name: S3_SECRET_KEY\n              valueFrom:\n"
        "                configMapKeyRef: {name: settings, key: s3}\n",
    )
    code, _, stderr = render(config, tmp_path / "b", "--env", "prod")
    assert code == 2
    assert "envVars entry S3_SECRET_KEY takes something other than a Secret" in stderr


def test_a_declared_vvp2_secret_value_is_a_reference(tmp_path: Path, config: Path) -> None:
    add_flink_conf(config, PROD, "        s3.secret-key: ${s3_secret_key}\n")
    assert render(config, tmp_path / "a", "--env", "prod")[0] == 2
    edit(config / "namespaces/analytics.yaml", "  vvp:\n", "  vvp:\n    secretValues: [s3_secret_key]\n")
    code, _, stderr = render(config, tmp_path / "b", "--env", "prod")
    assert code == 0, stderr


def test_a_jaas_line_with_a_referenced_password_renders(tmp_path: Path, config: Path) -> None:
    add_flink_conf(
        config,
        PROD,
        "        properties.sasl.jaas.config: org.apache.kafka.common.security.plain.PlainLoginModule required "
        'username="ingest" password="${secret_values.kafka-ingest}";\n',
    )
    out = tmp_path / "out"
    code, stdout, stderr = render(config, out, "--env", "prod")
    assert code == 0, stderr
    defaults = yaml.safe_load((out / "prod/analytics/vvp/deploymentdefaults.yaml").read_text())
    jaas = defaults["spec"]["template"]["spec"]["flinkConfiguration"]["properties.sasl.jaas.config"]
    assert jaas.endswith('password="${secret_values.kafka-ingest}";')
    assert_clean(stdout, stderr, out=out)


def test_a_credential_in_a_namespace_without_deployments_is_caught(tmp_path: Path, config: Path) -> None:
    """Namespace defaults and deployment templates render without any deployment: still checked."""
    for path in (config / "deployments/analytics").glob("*.yaml"):
        path.unlink()
    path = config / "namespaces/analytics.yaml"
    edit(
        path,
        "spec:\n",
        f"spec:\n  template:\n    spec:\n      flinkConfiguration:\n        s3.secret-key: {S3_SECRET}\n",
    )
    code, stdout, stderr = render(config, tmp_path / "out", "--env", "prod")
    assert code == 2, stderr
    assert f"{path.name}:{line_of(path, 's3.secret-key')}:" in stderr
    assert_clean(stdout, stderr, out=tmp_path / "out")


def _every_render(config: Path) -> Iterator[tuple[str, ...]]:
    for env in ("dev", "staging", "prod"):
        for target in ("vvp", "vvp-operator"):
            yield ("--env", env, "--target", target)


def test_no_rendered_file_of_any_environment_or_target_contains_a_planted_secret(tmp_path: Path, config: Path) -> None:
    """Every secret given by reference, every environment and VVP target rendered: not one file has it."""
    add_flink_conf(config, PROD, "        s3.secret-key: ${secret_values.s3-secret-key}\n")
    add_env_vars(
        config,
        "            - name: DB_PASSWORD\n              valueFrom:\n"
        "                secretKeyRef: {name: fraud-db, key: password}\n",
    )
    for i, args in enumerate(_every_render(config)):
        out = tmp_path / f"out{i}"
        code, stdout, stderr = render(config, out, *args)
        assert code == 0, stderr
        assert_clean(stdout, stderr, out=out)
        assert (
            "${secret_values.s3-secret-key}" in "".join(p.read_text() for p in out.rglob("*.yaml"))
            or "prod" not in args
        )

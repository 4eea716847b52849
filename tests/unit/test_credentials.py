"""Credentials never reach a rendered file, stdout or stderr: every place people put them, every form
they come in, refused at the line that wrote them, with nothing written and the value in no byte gen
prints or writes; references pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.credentials import finding, is_credential_key
from tests.conftest import edit, run_cli, tree_digest

LOCATED = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+):(?P<col>\d+): (?P<key>[^:]+): (?P<msg>.+)$", re.M)
ANCHOR = "      kubernetes:\n        pods:\n          nodeSelector:\n"  # in environments/prod.yaml
DEPLOYMENT = "deployments/analytics/fraud-scoring.yaml"
ARTIFACT_ANCHOR = "        entryClass: com.acme.fraud.ScoringJob\n"

# Made-up values, long and odd enough never to occur by chance.
PASSWORD = "Zq8-planted-Pa55w0rd"
AWS_ID = "AKIAQX7PLANTEDKEY123"
AWS_SECRET = "pl4nted/AwsSecretKey+Zq8Zq8Zq8Zq8Zq8Zq8Zq"
GITHUB = "ghp_" + "Pl4nted0GithubToken1234567890abcdEFGH"
SLACK = "xoxb-" + "1234567890-0987654321-Pl4ntedSlackTokenAbc"


def _flink(key: str, value: str) -> tuple[str, str, str]:
    return ("environments/prod.yaml", ANCHOR, f"      flinkConfiguration:\n        {key}: '{value}'\n{ANCHOR}")


def _env_var(name: str, value: str) -> tuple[str, str, str]:
    return (
        "environments/prod.yaml",
        ANCHOR,
        f"      kubernetes:\n        pods:\n          envVars:\n            - name: {name}\n"
        f"              value: '{value}'\n          nodeSelector:\n",
    )


def _artifact(key: str, value: str) -> tuple[str, str, str]:
    return (DEPLOYMENT, ARTIFACT_ANCHOR, f"{ARTIFACT_ANCHOR}        {key}: '{value}'\n")


# name -> (file, old text, new text, the planted secret, the key the message names)
CASES: dict[str, tuple[tuple[str, str, str], str, str]] = {
    "env-var-database-url": (
        _env_var("DATABASE_URL", f"postgres://app:{PASSWORD}@db.acme.internal:5432/app"),
        PASSWORD,
        "spec.template.spec.kubernetes.pods.envVars[0]",
    ),
    "env-var-mysql-pwd": (_env_var("MYSQL_PWD", PASSWORD), PASSWORD, "spec.template.spec.kubernetes.pods.envVars[0]"),
    "env-var-github-token": (_env_var("CI_HELPER", GITHUB), GITHUB, "spec.template.spec.kubernetes.pods.envVars[0]"),
    "jar-uri-userinfo": (
        (
            "deployments/analytics/fraud-scoring.yaml",
            "jarUri: s3://",
            f"jarUri: https://ci:{PASSWORD}@repo.acme.internal/",
        ),
        PASSWORD,
        "spec.template.spec.artifact.jarUri",
    ),
    "main-args-jdbc-url": (
        _artifact("mainArgs", f"--db jdbc:postgresql://features/db?user=app&password={PASSWORD}"),
        PASSWORD,
        "spec.template.spec.artifact.mainArgs",
    ),
    "main-args-aws-keys": (
        _artifact("mainArgs", f"--aws-access-key-id {AWS_ID} --aws-secret-key {AWS_SECRET}"),
        AWS_SECRET,
        "spec.template.spec.artifact.mainArgs",
    ),
    "datasource-sslpassword": (
        (
            "environments/prod.yaml",
            '5432/vvp"\n',
            f'5432/vvp?sslmode=verify-full&sslpassword={PASSWORD}"\n',
        ),
        PASSWORD,
        "platform.vvp.helm.persistence.datasource.url",
    ),
    "jaas-client-secret": (
        _flink(
            "properties.sasl.jaas.config",
            f'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="fraud" '
            f'clientSecret="{PASSWORD}";',
        ),
        PASSWORD,
        "spec.template.spec.flinkConfiguration.properties.sasl.jaas.config",
    ),
    "java-opts-password": (
        _flink("env.java.opts.taskmanager", f"-Dssl.truststore.password={PASSWORD} -XX:+UseG1GC"),
        PASSWORD,
        "spec.template.spec.flinkConfiguration.env.java.opts.taskmanager",
    ),
    "containerized-env": (
        _flink("containerized.taskmanager.env.DB_PASSWORD", PASSWORD),
        PASSWORD,
        "spec.template.spec.flinkConfiguration.containerized.taskmanager.env.DB_PASSWORD",
    ),
    "oss-access-key-secret": (
        _flink("fs.oss.accessKeySecret", PASSWORD),
        PASSWORD,
        "spec.template.spec.flinkConfiguration.fs.oss.accessKeySecret",
    ),
    "slack-token-in-a-label": (
        (DEPLOYMENT, "    criticality: high\n", f"    criticality: high\n    notify: '{SLACK}'\n"),
        SLACK,
        "metadata.labels.notify",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_planted_credential_is_refused_at_its_line_and_never_printed_or_written(
    case: str, config: Path, tmp_path: Path
) -> None:
    (file, old, new), secret, key = CASES[case]
    out = tmp_path / "out"
    assert run_cli("render", "-c", str(config), "-o", str(out)).code == 0
    before = tree_digest(out)
    edit(config / file, old, new)
    # the lines the planting wrote (a list item is blamed on its list's line, within the planted block)
    text = (config / file).read_text()
    first = text[: text.index(new)].count("\n") + 1
    planted = range(first, first + new.count("\n") + 1)
    for command in (("render", "-o", str(out)), ("render", "--check", "-o", str(out)), ("validate",), ("check",)):
        result = run_cli(*command, "-e", "prod", "-c", str(config))
        assert result.code == 2, f"{case}: {command[0]} accepted it:\n{result.stderr}"
        located = [m for m in LOCATED.finditer(result.stderr) if m["file"].endswith(file)]
        assert located, result.stderr
        assert any(m["key"].startswith(key) for m in located), result.stderr
        assert any(int(m["line"]) in planted for m in located), result.stderr
        assert secret not in result.stdout + result.stderr
    assert tree_digest(out) == before
    assert all(secret.encode() not in p.read_bytes() for p in out.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("s3.secret-key", "${secret_values.s3-secret}"),
        ("containerized.taskmanager.env.DB_PASSWORD", "${DB_PASSWORD}"),
        ("env.java.opts.taskmanager", "-Dssl.truststore.password=${TRUSTSTORE_PASSWORD} -XX:+UseG1GC"),
        ("properties.sasl.jaas.config", 'x.PlainLoginModule required username="fraud" password="${KAFKA_PASSWORD}";'),
        ("mainArgs", "--db-password ${DB_PASSWORD} --topic payments"),
        ("jarUri", "s3://acme-artifacts/fraud-scoring/fraud-scoring-3.4.1.jar"),
        ("image", "registry.acme.internal/flink@sha256:" + "0123456789abcdef" * 4),
        ("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"),
        ("security.delegation.tokens.enabled", "false"),
        ("kubernetes.env.secretKeyRef", "env:DB_PASSWORD,secret:db,key:password"),
        ("description", "the password of the feature store rotates monthly"),
    ],
)
def test_references_and_ordinary_values_pass(key: str, value: str) -> None:
    assert finding(key, value) is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("s3.secret-key", "abc123"),
        ("fs.oss.accessKeySecret", "abc123"),
        ("MYSQL_PWD", "abc123"),
        ("gs.auth.client.secret", "abc123"),
        ("fs.azure.account.key.acme.blob.core.windows.net", "abc123"),
        ("notes", "-----BEGIN OPENSSH PRIVATE KEY-----"),
        ("notes", AWS_ID),
        ("notes", GITHUB),
        ("notes", SLACK),
        ("notes", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBsYW50ZWQ"),
        ("notes", f"amqp://guest:{PASSWORD}@rabbit:5672/"),
        ("notes", f"token: {PASSWORD}"),
        ("mainArgs", f"--api-key {PASSWORD}"),
        ("connection", f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={PASSWORD};"),
    ],
)
def test_every_known_form_is_found(key: str, value: str) -> None:
    assert finding(key, value) is not None


def test_names_that_describe_credentials_are_not_credentials() -> None:
    for name in ("fs.s3a.aws.credentials.provider", "security.delegation.tokens.enabled", "tls.secretName"):
        assert not is_credential_key(name), name
    for name in ("fs.oss.accessKeySecret", "MYSQL_PWD", "clientSecret", "oauth.refresh-token", "private_key"):
        assert is_credential_key(name), name


def test_a_refused_value_is_not_repeated_by_a_schema_or_yaml_message(config: Path, tmp_path: Path) -> None:
    env = config / "environments/prod.yaml"
    tls = f"  flinkOperator:\n    tls:\n      secretName: flink-tls\n      password: '{PASSWORD}'\n"
    edit(env, "  flinkOperator:\n", tls)
    result = run_cli("render", "-e", "prod", "-c", str(config), "-o", str(tmp_path / "a"))
    assert result.code == 2 and "platform.flinkOperator.tls.password: expected object" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    edit(env, f"password: '{PASSWORD}'", f"password: !{PASSWORD}")
    result = run_cli("render", "-e", "prod", "-c", str(config), "-o", str(tmp_path / "b"))
    assert result.code == 2 and "as a tag" in result.stderr, result.stderr
    assert PASSWORD not in result.stdout + result.stderr

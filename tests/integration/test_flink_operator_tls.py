"""TLS and values from Secrets on the flink-operator target.

Flink reads its configuration as text, so a password cannot be a ``${NAME}`` in flinkConfiguration.
The target moves such values into the components' start commands as ``-Dkey=value``; Kubernetes
runs those commands with ``bash -c``, which expands the variable from the container's environment
(a Secret). The tests check that through a real bash and a real Flink: a JobManager and a
TaskManager started that way talk mutual TLS and serve the REST API over https.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.flink.distribution import find_flink_home
from generator.render.plan import Selection, render
from generator.smoke.ports import PortPicker
from generator.targets.flink_operator import secrets
from tests.conftest import edit, run_cli

TARGET = "flink-operator"
PASSWORD_ENV = secrets.TLS_PASSWORD_ENV
# what a password may contain: everything bash would otherwise interpret
NASTY = "pa ss$HOME \"dq\" 'sq' `id` \\ ${PATH} ;|&<>*?!#~%"
# Flink writes the internal SSL password into its RPC system's (HOCON) configuration inside double
# quotes without escaping them: a store password with " or \ stops the JobManager (found by the test
# below with NASTY; docs/flink-operator.md says so). Everything else the shell would interpret is fine.
FLINK_NASTY = NASTY.replace('"', "").replace("\\", "")


def rendered(config: Path, env: str = "prod", *sets: str, **selection: str) -> dict[str, dict[str, Any]]:
    repo = ConfigRepo(config)
    files = render(repo, Resolver(repo, sets), Selection(env=env, target=TARGET, **selection))
    return {f.path: yaml.safe_load(f.content) for f in files}


def flink_deployment(docs: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    found = [d for p, d in docs.items() if p.endswith(f"flinkdeployment-{name}.yaml")]
    assert len(found) == 1, sorted(docs)
    return found[0]


def bash_words(command: str, env: dict[str, str]) -> list[str]:
    """The arguments bash -c gives a program for ``command`` (as Kubernetes starts Flink)."""
    done = subprocess.run(
        ["bash", "-c", f"printf '%s\\0' {command}"],
        env={"PATH": os.environ["PATH"], "HOME": "/nonexistent", **env},
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().split("\0")[:-1]


# -- the configuration ---------------------------------------------------------------------------------
def test_prod_tls_mounts_the_stores_and_takes_the_password_from_its_secret(config: Path) -> None:
    doc = flink_deployment(rendered(config), "fraud-scoring")
    conf = doc["spec"]["flinkConfiguration"]
    for scope in ("internal", "rest"):
        assert conf[f"security.ssl.{scope}.enabled"] == "true"
        assert conf[f"security.ssl.{scope}.keystore"] == "/opt/flink/tls/keystore.p12"
        assert conf[f"security.ssl.{scope}.truststore"] == "/opt/flink/tls/truststore.p12"
        for key in secrets.SSL_PASSWORD_KEYS:
            assert f"security.ssl.{scope}.{key}" not in conf  # only in the start commands
    for component in ("jobManager", "taskManager"):
        pod = doc["spec"][component]["podTemplate"]["spec"]
        (container,) = pod["containers"]
        assert {"name": "flink-tls", "mountPath": "/opt/flink/tls", "readOnly": True} in container["volumeMounts"]
        assert {
            "name": PASSWORD_ENV,
            "valueFrom": {"secretKeyRef": {"name": "flink-tls-password", "key": "password"}},
        } in container["env"]
        assert {
            "name": "flink-tls",
            "secret": {
                "secretName": "flink-tls",
                "items": [
                    {"key": "keystore.p12", "path": "keystore.p12"},
                    {"key": "truststore.p12", "path": "truststore.p12"},
                ],
            },
        } in pod["volumes"]
    for key in secrets.ENTRYPOINT_ARGS.values():
        args = bash_words(conf[key], {PASSWORD_ENV: NASTY})
        expected = sorted(
            f"-Dsecurity.ssl.{scope}.{k}={NASTY}" for scope in ("internal", "rest") for k in secrets.SSL_PASSWORD_KEYS
        )
        assert args == expected


def test_the_operator_chart_gets_its_truststore_for_the_https_rest_api(config: Path) -> None:
    docs = rendered(config)
    values = next(d for p, d in docs.items() if p.endswith("flink-kubernetes-operator-values.yaml"))
    assert values["tls"] == {
        "create": True,
        "secretName": "flink-operator-tls",
        "secretKeyRef": {"name": "flink-operator-tls-password", "key": "password"},
    }


def test_dev_switches_the_clusters_tls_off_and_keeps_the_operators(config: Path) -> None:
    docs = rendered(config, "dev")
    conf = flink_deployment(docs, "fraud-scoring")["spec"]["flinkConfiguration"]
    assert not [k for k in conf if k.startswith("security.ssl.") or k.endswith("entrypoint.args")]
    values = next(d for p, d in docs.items() if p.endswith("flink-kubernetes-operator-values.yaml"))
    assert "tls" in values  # the operator keeps its truststore: dev deletes only the clusters' TLS


@pytest.mark.parametrize(
    "value",
    ["plain", "with space", 'dq"uote', "sq'uote", "$HOME and `id`", "back\\slash", "new\nline", "-Dx=y z", "*"],
)
def test_a_shell_word_expands_only_its_references(value: str) -> None:
    text = f"-Dkey={value}:${{SECRET}}:{value}"
    assert bash_words(secrets.shell_word(text), {"SECRET": NASTY}) == [f"-Dkey={value}:{NASTY}:{value}"]


def test_values_read_from_a_secret_move_into_the_start_commands(config: Path) -> None:
    edit(
        config / "profiles" / "stateful-heavy.yaml",
        "      flinkConfiguration:\n",
        "      kubernetes:\n"
        "        pods:\n"
        "          envVars:\n"
        "            - {name: S3_SECRET_KEY, valueFrom: {secretKeyRef: {name: s3, key: secret}}}\n"
        "            - {name: KAFKA_PASSWORD, valueFrom: {secretKeyRef: {name: kafka, key: password}}}\n"
        "      flinkConfiguration:\n"
        "        s3.secret-key: ${S3_SECRET_KEY}\n"
        "        properties.sasl.jaas.config: >-\n"
        "          org.apache.kafka.common.security.plain.PlainLoginModule required\n"
        '          username="fraud" password="${KAFKA_PASSWORD}";\n',
    )
    doc = flink_deployment(rendered(config, "prod", deployment="fraud-scoring"), "fraud-scoring")
    conf = doc["spec"]["flinkConfiguration"]
    assert "s3.secret-key" not in conf and "properties.sasl.jaas.config" not in conf
    args = bash_words(
        conf["kubernetes.taskmanager.entrypoint.args"],
        {PASSWORD_ENV: "x", "S3_SECRET_KEY": "s3!", "KAFKA_PASSWORD": 'k "p'},
    )
    assert "-Ds3.secret-key=s3!" in args
    assert (
        "-Dproperties.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
        'username="fraud" password="k "p";'
    ) in args


# -- what cannot work is said where it was written -------------------------------------------------------
def _render_problems(config: Path, *args: str) -> str:
    result = run_cli(
        "render",
        "--config",
        str(config),
        "--target",
        TARGET,
        "--env",
        "prod",
        "--out",
        str(config.parent / "out"),
        *args,
    )
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_tls_without_the_operators_truststore_is_refused_at_its_line(config: Path) -> None:
    edit(
        config / "environments" / "prod.yaml",
        "    registry: registry.acme.internal/mirror/apache\n",
        "    registry: registry.acme.internal/mirror/apache\n    chart:\n      tls: null\n",
    )
    err = _render_problems(config)
    assert "baseline.yaml:" in err and "platform.flinkOperator.tls" in err and "chart.tls" in err


def test_tls_in_standalone_mode_is_refused(config: Path) -> None:
    err = _render_problems(config, "--set", "platform.flinkOperator.mode=standalone")
    # at the choice that conflicts, naming where TLS was switched on
    assert "<command line>:1:1: platform.flinkOperator.mode: in standalone mode" in err
    assert "platform.flinkOperator.tls at " in err and "baseline.yaml:" in err


def test_a_vvp_secret_value_is_refused_on_the_operator_target(config: Path) -> None:
    edit(
        config / "profiles" / "stateful-heavy.yaml",
        "      flinkConfiguration:\n",
        "      flinkConfiguration:\n        s3.secret-key: ${secret_values.s3-key}\n",
    )
    err = _render_problems(config)
    assert (
        "profiles/stateful-heavy.yaml:18:" in err
        and "s3.secret-key" in err
        and "Ververica Platform secret value" in err
    )


def test_an_ssl_key_of_its_own_next_to_the_tls_settings_is_refused(config: Path) -> None:
    err = _render_problems(config, "--set", "spec.template.spec.flinkConfiguration.security.ssl.rest.enabled=false")
    assert "security.ssl.rest.enabled" in err and "platform.flinkOperator.tls sets this key" in err


def test_the_password_variable_name_is_reserved(config: Path) -> None:
    err = _render_problems(
        config,
        "--set",
        f'spec.template.spec.kubernetes.pods.envVars=[{{"name": "{PASSWORD_ENV}", '
        '"valueFrom": {"secretKeyRef": {"name": "other", "key": "password"}}}]',
    )
    assert PASSWORD_ENV in err and "rename" in err


# -- a real Flink, started the way Kubernetes starts it -------------------------------------------------
def _keytool(*args: str, password: str) -> None:
    subprocess.run(["keytool", *args], env={**os.environ, "STOREPASS": password}, check=True, capture_output=True)


def _stores(folder: Path, password: str) -> Path:
    """A PKCS12 keystore with a self-signed certificate for 127.0.0.1 and a truststore with it;
    returns the certificate in PEM for Python's https client."""
    keystore, truststore, cert = folder / "keystore.p12", folder / "truststore.p12", folder / "flink.pem"
    common = ("-storetype", "PKCS12", "-storepass:env", "STOREPASS")
    _keytool(
        "-genkeypair",
        "-alias",
        "flink",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-dname",
        "CN=flink",
        "-ext",
        "SAN=ip:127.0.0.1,dns:localhost",
        "-validity",
        "2",
        "-keystore",
        str(keystore),
        *common,
        password=password,
    )
    _keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "flink",
        "-keystore",
        str(keystore),
        "-file",
        str(cert),
        *common,
        password=password,
    )
    _keytool(
        "-importcert",
        "-noprompt",
        "-alias",
        "flink-ca",
        "-file",
        str(cert),
        "-keystore",
        str(truststore),
        *common,
        password=password,
    )
    return cert


def _https_json(url: str, cert: Path) -> Any:
    context = ssl.create_default_context(cafile=str(cert))
    with urllib.request.urlopen(url, context=context, timeout=3) as response:
        return json.loads(response.read())


def test_real_flink_runs_mutual_tls_and_https_with_the_rendered_settings(config: Path, tmp_path: Path) -> None:
    home = find_flink_home()
    assert home is not None, "the test command installs Flink"
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir()
    cert = _stores(tls_dir, FLINK_NASTY)
    doc = flink_deployment(
        rendered(config, "prod", f"platform.flinkOperator.tls.mountPath={tls_dir}", deployment="fraud-scoring"),
        "fraud-scoring",
    )
    conf = doc["spec"]["flinkConfiguration"]
    ports = PortPicker()
    rest, rpc, blob, tm_rpc, data = (ports.pick() for _ in range(5))
    local = {
        **{k: v for k, v in conf.items() if k.startswith("security.ssl.")},
        "jobmanager.rpc.address": "127.0.0.1",
        "jobmanager.bind-host": "127.0.0.1",
        "jobmanager.rpc.port": str(rpc),
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "rest.port": str(rest),
        "blob.server.port": str(blob),
        "taskmanager.host": "127.0.0.1",
        "taskmanager.bind-host": "127.0.0.1",
        "taskmanager.rpc.port": str(tm_rpc),
        "taskmanager.data.port": str(data),
        "taskmanager.numberOfTaskSlots": "1",
        "jobmanager.memory.process.size": "768m",
        "taskmanager.memory.process.size": "1024m",
    }
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "config.yaml").write_text(yaml.safe_dump(local))
    for name in ("log4j-console.properties", "log4j.properties"):
        source = home / "conf" / name
        if source.is_file():
            shutil.copy(source, conf_dir / name)
    env = {
        **os.environ,
        "FLINK_CONF_DIR": str(conf_dir),
        "FLINK_LOG_DIR": str(tmp_path / "log"),
        PASSWORD_ENV: FLINK_NASTY,
    }
    env.pop("FLINK_HOME", None)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # What Kubernetes runs is bash -c "kubernetes-jobmanager.sh kubernetes-application <entrypoint
        # args>": the same script here, with the standalone entry point (no Kubernetes API) and its
        # configuration folder; the TaskManager's start script passes its arguments the same way.
        starts = {
            "jobmanager": f"{home / 'bin' / 'kubernetes-jobmanager.sh'} standalonesession --configDir {conf_dir}",
            "taskmanager": f"{home / 'bin' / 'taskmanager.sh'} start-foreground",
        }
        for component, start in starts.items():
            command = f"{start} {conf[secrets.ENTRYPOINT_ARGS[component]]}"
            out = (tmp_path / f"{component}.out").open("wb")
            procs.append(
                subprocess.Popen(
                    ["bash", "-c", command], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        deadline = time.monotonic() + 120
        registered: list[Any] = []
        while time.monotonic() < deadline and not registered:
            assert all(p.poll() is None for p in procs), (tmp_path / "jobmanager.out").read_text()[-3000:]
            try:
                registered = _https_json(f"https://127.0.0.1:{rest}/taskmanagers", cert)["taskmanagers"]
            except (OSError, ValueError):
                time.sleep(1)
        assert registered, "the TaskManager did not register over mutual TLS within 120 s"
        # plain http is refused: the REST API speaks only TLS
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{rest}/overview", timeout=3)
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
    logs = "".join(p.read_text(errors="replace") for p in [*(tmp_path / "log").glob("*"), *tmp_path.glob("*.out")])
    assert "pa ss" not in logs, "Flink logged the store password"

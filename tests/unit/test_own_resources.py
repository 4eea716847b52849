"""Your own Kubernetes objects in ``resources/<namespace>/``: written beside gen's, listed, owned,
checked like gen's own objects, per environment where wanted, and never a credential."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import edit, run_cli

PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: fraud-scoring-taskmanagers
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: fraud-scoring
"""
CERTIFICATE = """\
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: flink-operator-tls
spec:
  secretName: flink-operator-tls
  issuerRef:
    name: acme-internal-ca
    kind: ClusterIssuer
  dnsNames: [flink-operator.flink-analytics.svc]
"""
ACCEPT = '  ownResources:\n    uncheckedKinds: ["cert-manager.io/v1 Certificate"]\n'


def write(config: Path, relative: str, text: str) -> Path:
    path = config / "resources" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def accept_certificates(config: Path) -> None:
    edit(
        config / "namespaces/analytics.yaml",
        "  kubernetesNamespace: flink-analytics\n",
        "  kubernetesNamespace: flink-analytics\n" + ACCEPT,
    )


def render(config: Path, out: Path, env: str) -> tuple[int, str]:
    result = run_cli("render", "-c", str(config), "-e", env, "-o", str(out))
    return result.code, result.stderr


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_own_objects_are_written_listed_owned_and_per_environment(config: Path, tmp_path: Path) -> None:
    write(config, "analytics/fraud-scoring-pdb.yaml", PDB)
    write(config, "analytics/prod/operator-tls.yaml", CERTIFICATE)
    accept_certificates(config)
    out = tmp_path / "out"
    for env in ("prod", "dev"):
        code, stderr = render(config, out, env)
        assert code == 0, stderr
    prod, dev = out / "prod/analytics", out / "dev/analytics"
    pdb = yaml.safe_load((prod / "resources/poddisruptionbudget-fraud-scoring-taskmanagers.yaml").read_text())
    assert pdb["metadata"] == {"name": "fraud-scoring-taskmanagers", "namespace": "flink-analytics"}
    assert pdb["spec"]["maxUnavailable"] == 1
    assert (prod / "resources/certificate-flink-operator-tls.yaml").is_file()
    assert not (dev / "resources/certificate-flink-operator-tls.yaml").exists()
    listed = yaml.safe_load((prod / "kustomization.yaml").read_text())["resources"]
    assert "resources/certificate-flink-operator-tls.yaml" in listed
    assert "resources/poddisruptionbudget-fraud-scoring-taskmanagers.yaml" in listed
    assert (
        "resources/certificate-flink-operator-tls.yaml"
        not in yaml.safe_load((dev / "kustomization.yaml").read_text())["resources"]
    )
    index = json.loads((out / "gen-index.json").read_text())
    entry = index["files"]
    owned = next(
        v for k, v in entry.items() if k.endswith("prod/analytics/resources/certificate-flink-operator-tls.yaml")
    )
    assert owned["owner"] == {"env": "prod", "namespace": "analytics"}
    # a file gone from resources/ is removed from the output by the next render, named
    (config / "resources/analytics/prod/operator-tls.yaml").unlink()
    code, stderr = render(config, out, "prod")
    assert code == 0, stderr
    assert not (prod / "resources/certificate-flink-operator-tls.yaml").exists()
    assert "removed: " in stderr and "prod/analytics/resources/certificate-flink-operator-tls.yaml" in stderr


def test_an_environment_file_replaces_the_common_one(config: Path, tmp_path: Path) -> None:
    write(config, "analytics/fraud-scoring-pdb.yaml", PDB)
    write(config, "analytics/prod/fraud-scoring-pdb.yaml", PDB.replace("maxUnavailable: 1", "minAvailable: 3"))
    out = tmp_path / "out"
    for env in ("prod", "staging"):
        assert render(config, out, env)[0] == 0
    name = "analytics/resources/poddisruptionbudget-fraud-scoring-taskmanagers.yaml"
    assert yaml.safe_load((out / "prod" / name).read_text())["spec"] == {
        "minAvailable": 3,
        "selector": {"matchLabels": {"app": "fraud-scoring"}},
    }
    assert yaml.safe_load((out / "staging" / name).read_text())["spec"]["maxUnavailable"] == 1


def test_a_kind_without_schema_is_refused_until_accepted(config: Path, tmp_path: Path) -> None:
    path = write(config, "analytics/operator-tls.yaml", CERTIFICATE)
    result = run_cli("validate", "-c", str(config), "-e", "prod")
    assert result.code == 2
    assert f"resources/analytics/operator-tls.yaml:{line_of(path, 'kind:')}:1: kind: gen has no schema for " in (
        result.stderr
    )
    assert "platform.ownResources.uncheckedKinds" in result.stderr
    accept_certificates(config)
    assert render(config, tmp_path / "out", "prod")[0] == 0


def test_built_in_kinds_are_checked_strictly_at_the_line(config: Path, tmp_path: Path) -> None:
    path = write(config, "analytics/pdb.yaml", PDB.replace("maxUnavailable", "maxUnavaliable"))
    code, stderr = render(config, tmp_path / "out", "prod")
    assert code == 2 and not (tmp_path / "out").exists()
    assert f"resources/analytics/pdb.yaml:{line_of(path, 'maxUnavaliable')}:3: spec.maxUnavaliable: unknown field" in (
        stderr
    )


def test_no_credential_reaches_the_output(config: Path, tmp_path: Path) -> None:
    secret = write(
        config,
        "analytics/db.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: Hunter2-Hunter2-xyz\n",
    )
    config_map = write(
        config,
        "analytics/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  db.password: Hunter2-Hunter2-xyz\n",
    )
    code, stderr = render(config, tmp_path / "out", "prod")
    assert code == 2 and "Hunter2" not in stderr
    assert f"resources/analytics/db.yaml:{line_of(secret, 'stringData')}:1: stringData: a Secret with data" in stderr
    assert f"resources/analytics/settings.yaml:{line_of(config_map, 'db.password')}:" in stderr


def test_an_object_of_another_namespace_is_refused(config: Path, tmp_path: Path) -> None:
    path = write(config, "analytics/pdb.yaml", PDB.replace("  name: fraud", "  namespace: payments\n  name: fraud"))
    code, stderr = render(config, tmp_path / "out", "prod")
    assert code == 2
    assert f"resources/analytics/pdb.yaml:{line_of(path, 'namespace: payments')}:" in stderr
    assert "renders into 'flink-analytics'" in stderr


def test_folders_and_files_gen_would_not_read_are_errors(config: Path) -> None:
    write(config, "analytics/prd/pdb.yaml", PDB)
    write(config, "analytic/pdb.yaml", PDB)
    write(config, "analytics/pdb.yml", PDB)
    write(config, "analytics/README.md", "notes")
    result = run_cli("validate", "-c", str(config), "-e", "prod")
    assert result.code == 2
    assert "resources/analytics/prd:1:1: 'prd' is not an environment" in result.stderr
    assert "did you mean 'prod'?" in result.stderr
    assert "resources/analytic:1:1: 'analytic' is not a namespace" in result.stderr
    assert "resources/analytics/pdb.yml:1:1: gen reads only files named <name>.yaml here" in result.stderr
    assert "README" not in result.stderr


def test_an_object_gen_renders_too_is_a_collision(config: Path, tmp_path: Path) -> None:
    write(
        config,
        "analytics/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: flink-jobmanager\n",
    )
    code, stderr = render(config, tmp_path / "out", "prod")
    assert code == 2
    assert "resources/serviceaccount-flink-jobmanager.yaml" in stderr


def test_a_file_outside_the_configuration_is_refused(config: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(PDB)
    (config / "resources/analytics").mkdir(parents=True)
    (config / "resources/analytics/pdb.yaml").symlink_to(outside)
    result = run_cli("validate", "-c", str(config), "-e", "prod")
    assert result.code == 2
    assert "resources/analytics/pdb.yaml:1:1: file leaves the configuration folder" in result.stderr


def test_a_selected_render_keeps_the_namespace_objects(config: Path, tmp_path: Path) -> None:
    """A render of one deployment writes the namespace's own objects as it writes its other objects."""
    write(config, "analytics/fraud-scoring-pdb.yaml", PDB)
    out = tmp_path / "out"
    assert render(config, out, "prod")[0] == 0
    write(config, "analytics/fraud-scoring-pdb.yaml", PDB.replace("maxUnavailable: 1", "maxUnavailable: 2"))
    result = run_cli("render", "-c", str(config), "-e", "prod", "-d", "events-ingest", "-o", str(out))
    assert result.code == 0, result.stderr
    pdb = out / "prod/analytics/resources/poddisruptionbudget-fraud-scoring-taskmanagers.yaml"
    assert yaml.safe_load(pdb.read_text())["spec"]["maxUnavailable"] == 2
    (config / "resources/analytics/fraud-scoring-pdb.yaml").unlink()
    result = run_cli("render", "-c", str(config), "-e", "prod", "-d", "events-ingest", "-o", str(out))
    assert result.code == 0, result.stderr
    assert not pdb.exists()

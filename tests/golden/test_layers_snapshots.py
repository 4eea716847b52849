"""Snapshot of a per-environment exception and an own object: the prod-only section of one
deployment and the objects of resources/, as the flink-operator target renders them (reviewed like
code, never regenerated blindly)."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.data import copy_example
from generator.render.plan import Selection, render

# added to the prod section of the example's fraud-scoring (which already has one there)
PROD = "  prod:\n"
SECTION = """\
    spec:
      template:
        spec:
          parallelism: 8
          numberOfTaskManagers: 8
          kubernetes:
            pods:
              envVars:
                - name: FRAUD_MODEL_VARIANT
                  value: champion
              tolerations:
                - key: dedicated
                  operator: Equal
                  value: flink-fraud
                  effect: NoSchedule
"""
PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: fraud-scoring-jobmanager
spec:
  maxUnavailable: 0
  selector:
    matchLabels:
      app.kubernetes.io/instance: fraud-scoring
      component: jobmanager
"""
CERTIFICATE = """\
# cert-manager issues the Flink TLS keystore the FlinkDeployments mount (secret flink-tls):
# https://cert-manager.io/docs/usage/certificate/ (keystores.pkcs12)
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: flink-tls
spec:
  secretName: flink-tls
  dnsNames: ["*.flink-analytics.svc"]
  issuerRef:
    name: acme-internal-ca
    kind: ClusterIssuer
  keystores:
    pkcs12:
      create: true
      passwordSecretRef:
        name: flink-tls-password
        key: password
"""


def with_exception_and_own_objects(config: Path) -> Path:
    """The example with a prod-only section in one deployment, a PDB for every environment and a
    prod-only Certificate (a kind gen has no schema for, accepted in the namespace file)."""
    copy_example(config)
    job = config / "deployments/analytics/fraud-scoring.yaml"
    text = job.read_text()
    assert PROD in text
    job.write_text(text.replace(PROD, PROD + SECTION))
    namespace = config / "namespaces/analytics.yaml"
    namespace.write_text(
        namespace.read_text().replace(
            "  kubernetesNamespace: flink-analytics\n",
            "  kubernetesNamespace: flink-analytics\n"
            '  ownResources:\n    uncheckedKinds: ["cert-manager.io/v1 Certificate"]\n',
        )
    )
    (config / "resources/analytics/prod").mkdir(parents=True)
    (config / "resources/analytics/fraud-scoring-pdb.yaml").write_text(PDB)
    (config / "resources/analytics/prod/flink-tls.yaml").write_text(CERTIFICATE)
    return config


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_exception_and_own_objects(tmp_path_factory.mktemp("layers") / "config")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_a_prod_exception_and_own_objects(config: Path, env: str, snapshot: SnapshotAssertion) -> None:
    repo = ConfigRepo(config)
    files = render(repo, Resolver(repo), Selection(env=env, deployment="fraud-scoring", target="flink-operator"))
    wanted = ("/flinkdeployment-fraud-scoring.yaml", "/resources/", "/kustomization.yaml")
    assert {f.path: f.content for f in files if any(part in f.path for part in wanted)} == snapshot

"""The output kinds gen renders today, declared once (see :mod:`generator.kinds`)."""

from __future__ import annotations

from generator.kinds import Owner, file_kind, object_kind

KUBERNETES = "generator.validate.kubernetes:problems"
CRD = "generator.validate.crd_schemas:check_crd"
VVP = "generator.validate.vvp_schemas:check_vvp"

# Built-in Kubernetes objects around the jobs (strict Kubernetes OpenAPI schemas)
for _api, _kind in (
    ("v1", "ServiceAccount"),
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
):
    object_kind(_api, _kind, KUBERNETES, Owner.NAMESPACE)
# a deployment's own ConfigMap (the SQL script of a SQLSCRIPT job on the flink-operator target)
object_kind("v1", "ConfigMap", KUBERNETES, Owner.DEPLOYMENT)

# Prometheus Operator custom resources
object_kind("monitoring.coreos.com/v1", "PodMonitor", CRD, Owner.NAMESPACE)
object_kind("monitoring.coreos.com/v1", "PrometheusRule", CRD, Owner.NAMESPACE)

# Apache Flink Kubernetes Operator custom resources
object_kind("flink.apache.org/v1beta1", "FlinkDeployment", CRD, Owner.DEPLOYMENT)
object_kind("flink.apache.org/v1beta1", "FlinkSessionJob", CRD, Owner.DEPLOYMENT)

# Ververica Platform: REST resources of the AppManager API (not Kubernetes objects: kept in vvp/,
# never listed in the kustomization) and the VVP Kubernetes operator's custom resource
object_kind("v1", "Deployment", VVP, Owner.DEPLOYMENT, listed=False, folder="vvp/")
object_kind("v1", "DeploymentTarget", VVP, Owner.NAMESPACE, listed=False, folder="vvp/")
object_kind("v1", "SessionCluster", VVP, Owner.NAMESPACE, listed=False, folder="vvp/")
object_kind("v1", "DeploymentDefaults", VVP, Owner.NAMESPACE, listed=False, folder="vvp/")
object_kind("ververica.platform/v1", "VvpDeployment", VVP, Owner.DEPLOYMENT)

# Files that are not objects
file_kind("kustomization", "generator.render.kubernetes:check_kustomization", Owner.NAMESPACE, "kustomization.yaml")
file_kind(
    "helm-values/ververica-platform",
    "generator.targets.vvp.helm:check",
    Owner.ENVIRONMENT,
    "helm/ververica-platform-values.yaml",
)
file_kind(
    "helm-values/flink-kubernetes-operator",
    "generator.validate.flink_operator_values:check_values",
    Owner.ENVIRONMENT,
    "helm/flink-kubernetes-operator-values.yaml",
)

# GitOps wiring of an environment (generator.render.delivery): Argo CD Applications and Flux
# Kustomizations in gitops/, the Flux HelmRepositories and HelmReleases beside the Helm values they
# read in helm/, optional Namespace objects in namespaces/, and the kustomization.yaml files of the
# environment and of those folders
GITOPS = "generator.validate.gitops:check_object"
KUSTOMIZE_FILE = "generator.validate.gitops:check_kustomize_file"
object_kind("argoproj.io/v1alpha1", "Application", GITOPS, Owner.ENVIRONMENT, listed=False, folder="gitops/")
object_kind(
    "kustomize.toolkit.fluxcd.io/v1", "Kustomization", GITOPS, Owner.ENVIRONMENT, listed=False, folder="gitops/"
)
object_kind("source.toolkit.fluxcd.io/v1", "HelmRepository", GITOPS, Owner.ENVIRONMENT, listed=False, folder="helm/")
object_kind("helm.toolkit.fluxcd.io/v2", "HelmRelease", GITOPS, Owner.ENVIRONMENT, listed=False, folder="helm/")
object_kind("v1", "Namespace", KUBERNETES, Owner.ENVIRONMENT, listed=False, folder="namespaces/")
file_kind("kustomization/environment", KUSTOMIZE_FILE, Owner.ENVIRONMENT, "kustomization.yaml")
file_kind("kustomization/gitops", KUSTOMIZE_FILE, Owner.ENVIRONMENT, "gitops/kustomization.yaml")
file_kind("kustomization/helm", KUSTOMIZE_FILE, Owner.ENVIRONMENT, "helm/kustomization.yaml")

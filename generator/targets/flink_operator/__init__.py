"""The Apache Flink Kubernetes Operator: a ``FlinkDeployment`` per job (or a session cluster and
``FlinkSessionJob``s) and the operator chart's Helm values.

:mod:`.settings` holds what the target reads and where its problems point, :mod:`.images` the pinned
images, :mod:`.checks` the operator's rules, :mod:`.secrets` values from Secrets and TLS,
:mod:`.documents` the resources and :mod:`.helm` the chart values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.render import pods
from generator.render.context import Doc, EnvContext, NamespaceContext, Peer
from generator.targets.flink_operator import documents, fields, helm

DEFAULT_OPERATOR_NAMESPACE = "flink-operator"
DEFAULT_INGRESS_NAMESPACE = "ingress-nginx"


@dataclass(frozen=True)
class FlinkOperator:
    name: str = "flink-operator"
    platform: str = "flink-kubernetes-operator"
    vvp: bool = False
    tls_settings: tuple[str, ...] | None = ("platform", "flinkOperator", "tls")

    def deployment_docs(self, eff: Effective) -> list[Doc]:
        return documents.deployment_docs(eff)

    def namespace_docs(self, ctx: NamespaceContext) -> list[Doc]:
        return documents.session_cluster_docs(ctx)

    def environment_docs(self, ctx: EnvContext) -> list[Doc]:
        return helm.values_docs(ctx)

    def jobmanager_pods(self, eff: Effective) -> int:
        return documents.jobmanager_replicas(eff)  # the FlinkDeployment's jobManager.replicas

    def api_components(self, eff: Effective) -> frozenset[str]:
        # native mode: the JobManager creates, watches and deletes its TaskManager pods
        native = model.of(eff).operator.mode == "native"
        return pods.OPERATOR_NATIVE_PODS.needs_api if native else frozenset()

    @property
    def input_fields(self) -> Mapping[Path_, Path_]:
        return fields.INPUT_FIELDS

    def rest_clients(self, eff: Effective) -> tuple[Peer, ...]:
        # the operator polls every JobManager's REST API and triggers savepoints through it
        operator = model.of(eff).operator
        peers = [Peer("flink-operator", operator.operator_namespace or DEFAULT_OPERATOR_NAMESPACE)]
        if operator.ingress:
            # spec.ingress: the ingress controller forwards the UI and REST API to the JobManager's REST port
            labels = operator.ingress.get("controllerPodLabels") or {}
            namespace = str(operator.ingress.get("controllerNamespace") or DEFAULT_INGRESS_NAMESPACE)
            peers.append(
                Peer("ingress-controller", namespace, tuple(sorted((str(k), str(v)) for k, v in labels.items())))
            )
        return tuple(peers)


TARGET = FlinkOperator()

"""What renderers receive and return: documents and the contexts of a namespace and an environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from generator.config.resolve import Effective

if TYPE_CHECKING:
    from generator.config.resolve import Resolver


@dataclass(frozen=True)
class Doc:
    """One rendered document. Its output kind (:mod:`generator.kinds`) comes from ``apiVersion`` and
    ``kind``, or from ``kind_key`` for files that are not objects (Helm values, the kustomization);
    the kind decides its validation and file name. ``file`` overrides the file name (relative to the
    owner's folder)."""

    content: dict[str, Any]
    file: str | None = None
    kind_key: str | None = None


# Every namespace carries this label with its own name (Kubernetes 1.22+): policies select namespaces by it.
METADATA_NAME = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Peer:
    """Pods of another namespace that a NetworkPolicy admits (a REST client, the operator, Prometheus)."""

    name: str
    namespace: str
    pod_labels: tuple[tuple[str, str], ...] = ()

    def selector(self) -> dict[str, Any]:
        peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {METADATA_NAME: self.namespace}}}
        if self.pod_labels:
            peer["podSelector"] = {"matchLabels": dict(self.pod_labels)}
        return peer


@dataclass(frozen=True)
class NamespaceContext:
    env: str
    namespace: str
    target: str
    effective: Effective  # baseline + namespace + environment: what the namespace's defaults say
    deployments: tuple[Effective, ...]  # every deployment of the namespace in this environment
    documents: Mapping[str, tuple[Doc, ...]] = field(default_factory=dict)  # deployment -> its docs
    resolver: Resolver | None = None  # for namespace-level views with a profile (deployment templates)


@dataclass(frozen=True)
class DeploymentView:
    """What the environment renderers read of one deployment: nothing else of it reaches them.

    An incremental render keys an environment's documents by these views (and by each namespace's
    configuration, :class:`EnvNamespace`), so a change to a deployment that leaves its view as it was
    (its arguments, its resources) does not render them again. A renderer that needs more of a
    deployment adds a field here, filled by :func:`generator.render.steps.deployment_view`."""

    deployment: str
    kubernetes_namespace: str
    session: bool  # a job of a session cluster
    jar_scheme: str | None  # the lower-case scheme of its jar URI (None without one)
    jobmanager_account: str  # the ServiceAccount of its JobManager
    jobmanager_account_at: tuple[str, int, int]  # where that account is set (Effective.located)


@dataclass(frozen=True)
class EnvNamespace:
    """One namespace of an environment as the environment renderers see it: the namespace's
    configuration and a view of each of its deployments (no rendered documents)."""

    env: str
    namespace: str
    target: str
    effective: Effective  # baseline + namespace + environment
    deployments: tuple[DeploymentView, ...]
    resolver: Resolver | None = None  # for namespaces of the platform outside the selection


@dataclass(frozen=True)
class EnvContext:
    env: str
    namespaces: tuple[EnvNamespace, ...]

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
class EnvContext:
    env: str
    namespaces: tuple[NamespaceContext, ...]

"""The effective configuration of one deployment (or namespace): the merged, rendered, normalised
values with the provenance of each, as the resolver (:mod:`generator.config.resolve`) produces it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.config.layers import FLINK_CONF
from generator.config.merge import Origin, Provenance, get_path, nearest_origin
from generator.config.yamlload import Path_, dotted
from generator.errors import Problem
from generator.flink import options

RESOURCES: Path_ = ("spec", "template", "spec", "resources")
ARTIFACT: Path_ = ("spec", "template", "spec", "artifact")


@dataclass(frozen=True)
class Effective:
    """The effective configuration of one deployment (or of a namespace, ``deployment`` empty)."""

    env: str
    namespace: str
    deployment: str
    profile: str
    data: dict[str, Any]
    provenance: Provenance
    layers: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = field(default=())
    # templated value -> the written values its template read, with the origin of each
    template_reads: Mapping[Path_, tuple[tuple[Path_, Origin], ...]] = field(default_factory=dict)

    def read_note(self, path: Path_) -> str:
        """Where a templated value came from, for a message about it ('' for a value written as is)."""
        reads = self.template_reads.get(path)
        if not reads:
            return ""
        chain = self.provenance.get(path)
        template = f" through the template at {chain[-1].where()}" if chain else ""
        wrote = ", ".join(f"{dotted(read)} written at {origin.where()}" for read, origin in reads)
        return f"the value comes from {wrote}{template}"

    def get(self, path: Path_, default: Any = None) -> Any:
        try:
            return get_path(self.data, path)
        except KeyError:
            return default

    @property
    def flink_version(self) -> str:
        return str(self.get((*ARTIFACT, "flinkVersion"), options.DEFAULT_VERSION))

    @property
    def flink_conf(self) -> dict[str, str]:
        """Canonical key -> string value."""
        conf = self.get(FLINK_CONF, {})
        return dict(conf) if isinstance(conf, dict) else {}

    def emitted_flink_conf(self) -> dict[str, str]:
        """The Flink configuration as the target Flink version reads it, keys sorted."""
        version = options.parse_version(self.flink_version)
        return {options.emit_key(k, version): v for k, v in sorted(self.flink_conf.items())}

    @property
    def kubernetes_namespace(self) -> str:
        return str(self.get(("platform", "kubernetesNamespace"), self.namespace))

    @property
    def target(self) -> str:
        return str(self.get(("platform", "target"), "vvp"))

    def origin(self, path: Path_) -> Origin | None:
        return nearest_origin(self.provenance, path)

    def located(self, path: Path_, fallback: str = "") -> tuple[str, int, int]:
        """File, line and column of the value at ``path`` (or its nearest set neighbour); line 1 of
        ``fallback`` (else :meth:`home_file`) when nobody set anything near it."""
        origin = self.origin(path)
        if origin is None:
            return fallback or self.home_file(), 1, 1
        return origin.file, origin.line, origin.col

    def layer_file(self, label: str) -> str | None:
        """File of the layer whose label starts with ``label`` (``environment prod``, ``namespace analytics``)."""
        for chain in self.provenance.values():
            for origin in chain:
                if origin.layer.startswith(label):
                    return origin.file
        return None

    def home_file(self) -> str:
        """Where a problem about a setting nobody wrote is reported (line 1): the deployment's own
        file, else the environment file, else the namespace file — the one rule every stage uses."""
        found = self.layer_file(f"deployment {self.namespace}/{self.deployment}") if self.deployment else None
        return (
            found
            or self.layer_file(f"environment {self.env}")
            or self.layer_file(f"namespace {self.namespace}")
            or f"namespaces/{self.namespace}.yaml"
        )

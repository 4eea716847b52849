"""Ververica Platform: the AppManager's REST resources (Deployment, DeploymentTarget, SessionCluster,
DeploymentDefaults) and the platform chart's Helm values.

:mod:`.spec` builds the DeploymentSpec both VVP targets share and makes their common checks,
:mod:`.resources` renders the REST resources, :mod:`.helm` the chart values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.render.context import Doc, EnvContext, NamespaceContext, Peer
from generator.targets.vvp import helm, resources, versions
from generator.targets.vvp.spec import raise_problems


@dataclass(frozen=True)
class Vvp:
    name: str = "vvp"
    platform: str = "ververica-platform"
    vvp: bool = True
    tls_settings: tuple[str, ...] | None = None
    # the platform version when platform.vvp.version is unset (targets/vvp/versions.py)
    default_version: tuple[int, int] = versions.DEFAULT
    # whether the target's jobs are the AppManager's REST Deployments (documented for VVP 2.x only)
    rest: bool = True

    def deployment_docs(self, eff: Effective) -> list[Doc]:
        raise_problems(versions.rest_problems(eff))
        return resources.deployment_docs(eff)

    def namespace_docs(self, ctx: NamespaceContext) -> list[Doc]:
        if self.rest:
            raise_problems(versions.rest_problems(ctx.effective))
        return resources.namespace_docs(ctx)

    def environment_docs(self, ctx: EnvContext) -> list[Doc]:
        return helm.values_docs(ctx, self, self.default_version)

    def api_components(self, eff: Effective) -> frozenset[str]:
        return frozenset()  # VVP's JobManager does not manage pods itself

    def jobmanager_pods(self, eff: Effective) -> int:
        """One: no public VVP source documents a way to run standby JobManagers (the Deployment API has no
        replica field; kubernetes.jobmanager.replicas is Flink's option for its native Kubernetes mode,
        while VVP creates the Kubernetes objects itself), so quotas count the one JobManager documented."""
        return 1

    @property
    def input_fields(self) -> Mapping[Path_, Path_]:
        return {}  # a VVP Deployment has the shape of the input: its fields are the input keys

    def rest_clients(self, eff: Effective) -> tuple[Peer, ...]:
        return ()  # VVP reaches the JobManager as a declared REST client (platform.kubernetes.networkPolicy)


TARGET = Vvp()

"""What a command selects (``--env``, ``--profile``, ``--namespace``, ``--deployment``, ``--target``).

A module of its own, importing nothing of the renderers: ``gen render --check`` needs a selection
before it knows whether it renders anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.output.index import Planned, Scope

if TYPE_CHECKING:
    from generator.config.effective import Effective
    from generator.config.layers import ConfigRepo
    from generator.config.resolve import Resolver


@dataclass(frozen=True)
class Selection:
    env: str | None = None
    profile: str | None = None
    namespace: str | None = None
    deployment: str | None = None
    target: str | None = None  # overrides platform.target

    def resolver(self, resolver: Resolver) -> Resolver:
        """``resolver`` with ``--set`` applied only to what this selection renders."""
        return resolver.for_selection(self.namespace, self.profile, self.deployment)

    def scope(self, repo: ConfigRepo, files: Sequence[Planned] = ()) -> Scope:
        """What the run may replace and remove; ``files`` (what it renders) name the namespace
        folders whose kustomization it wrote, all of whose direct files it answers for."""
        folders = frozenset(f.path.rpartition("/")[0] for f in files if f.path.endswith("/kustomization.yaml"))
        existing = frozenset(repo.deployments())
        return Scope(self.env, self.namespace, self.profile, self.deployment, existing, folders)

    def wants(self, unit: Effective) -> bool:
        return (self.profile is None or unit.profile == self.profile) and (
            self.deployment is None or unit.deployment == self.deployment
        )


__all__ = ["Selection"]

"""Ververica Platform's Kubernetes operator: a ``VvpDeployment`` custom resource per job, the same
namespace resources and platform chart values as the REST target (:mod:`generator.targets.vvp`);
:mod:`.vvp_deployment` renders the custom resource."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.render.context import Doc
from generator.targets.vvp import Vvp, versions
from generator.targets.vvp_operator import vvp_deployment


@dataclass(frozen=True)
class VvpOperator(Vvp):
    name: str = "vvp-operator"
    default_version: tuple[int, int] = versions.DEFAULT_OPERATOR
    rest: bool = False

    def deployment_docs(self, eff: Effective) -> list[Doc]:
        return vvp_deployment.deployment_docs(eff)

    @property
    def input_fields(self) -> Mapping[Path_, Path_]:
        return vvp_deployment.INPUT_FIELDS


TARGET = VvpOperator()

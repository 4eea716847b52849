"""The pinned images of the flink-operator target: the Flink image of every FlinkDeployment and
the operator's own image in its chart values, each checked where it is configured."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import Problem
from generator.model import keys
from generator.targets.flink_operator.settings import environment_file, problem_at, where

_VERSION_TAG = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class Image:
    reference: str
    pull_policy: str | None


def image(
    eff: Effective,
    settings: Mapping[str, Any],
    path: Path_,
    problems: list[Problem],
    *,
    flink_version: str | None = None,
) -> Image | None:
    """The pinned image of ``settings`` (``registry``/``repository``:``tag``@``digest``), configured at
    ``path``; without a registry of its own, the operator's."""
    registry = settings.get("registry") or model.of(eff).operator.registry
    repository, tag, digest = settings.get("repository"), settings.get("tag"), settings.get("digest")
    key = dotted(path)
    found: list[Problem] = []
    env_file = environment_file(eff)
    if not repository:
        found.append(problem_at(eff, path, "missing required key: repository", f"set {key}.repository", env_file))
    if not registry:
        found.append(
            problem_at(
                eff,
                (*path, "registry"),
                "the image has no registry",
                "set platform.flinkOperator.registry in each environment to its approved registry",
                env_file,
            )
        )
    if not tag and not digest:
        found.append(
            problem_at(
                eff,
                path,
                "the image is not pinned: it has neither tag nor digest",
                f"set {key}.tag to a release (e.g. 1.20.1-scala_2.12-java11) or {key}.digest",
                env_file,
            )
        )
    if tag and not digest:
        found.extend(_check_tag(eff, (*path, "tag"), str(tag), flink_version))
    problems.extend(found)
    if found:
        return None
    reference = f"{registry}/{repository}"
    if tag:
        reference += f":{tag}"
    if digest:
        reference += f"@{digest}"
    policy = settings.get("pullPolicy")
    return Image(reference, str(policy) if policy else None)


def _check_tag(eff: Effective, path: Path_, tag: str, flink_version: str | None) -> list[Problem]:
    if tag.lower() == "latest":
        return [problem_at(eff, path, "'latest' is not a pinned tag", "name a release or set a digest")]
    match = _VERSION_TAG.match(tag)
    if match is None:
        return []
    major, minor, patch = match.groups()
    if flink_version is not None and f"{major}.{minor}" != flink_version:
        artifact = (*keys.ARTIFACT, "flinkVersion")
        return [
            problem_at(
                eff,
                path,
                f"tag '{tag}' is Flink {major}.{minor}, but the deployment runs flinkVersion {flink_version} "
                f"(set at {where(eff, artifact)})",
                "keep the Apache Flink image and spec.template.spec.artifact.flinkVersion on the same release",
            )
        ]
    if patch is None:
        return [
            problem_at(
                eff,
                path,
                f"tag '{tag}' moves with every patch release",
                f"pin a patch release ({major}.{minor}.N...) or set a digest",
            )
        ]
    return []

"""The pinned images of the flink-operator target: the Flink image of every FlinkDeployment and
the operator's own image in its chart values, each checked where it is configured.

Only an official Flink repository's tag is read as a Flink release (:mod:`generator.model.images`):
it must name the deployment's ``flinkVersion``, with or without a digest. Any other repository is
an application image: its tag is the application's, it must be written next to the repository
(never inherited from a layer that named another image), and a moving tag (``latest``, ``v1``)
needs a digest in production."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import Problem
from generator.model import keys
from generator.model.images import flink_release, is_moving_tag, is_official_flink, layer_rank
from generator.targets.flink_operator.settings import environment_file, problem_at, where


@dataclass(frozen=True)
class Image:
    reference: str
    pull_policy: str | None
    official: bool = True
    tag: str | None = None


def image(
    eff: Effective,
    settings: Mapping[str, Any],
    path: Path_,
    problems: list[Problem],
    *,
    flink_version: str | None = None,
) -> Image | None:
    """The pinned image of ``settings`` (``registry``/``repository``:``tag``@``digest``), configured at
    ``path``; without a registry of its own, the operator's. ``flink_version`` (the Flink image of
    the pods) makes an official repository's tag name that release."""
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
    official = is_official_flink(str(repository or "")) if flink_version is not None else True
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
    elif repository and not official:
        found.extend(_check_application_image(eff, path, str(tag or ""), bool(digest)))
    if tag and official:
        found.extend(_check_tag(eff, (*path, "tag"), str(tag), flink_version, bool(digest)))
    problems.extend(found)
    if found:
        return None
    reference = f"{registry}/{repository}"
    if tag:
        reference += f":{tag}"
    if digest:
        reference += f"@{digest}"
    policy = settings.get("pullPolicy")
    return Image(reference, str(policy) if policy else None, official, str(tag) if tag else None)


def _check_application_image(eff: Effective, path: Path_, tag: str, digest: bool) -> list[Problem]:
    """An application image (not an official Flink repository): its own tag or digest, written
    where its repository is; no moving tag in production without a digest."""
    found: list[Problem] = []
    repo_origin = eff.origin((*path, "repository"))
    pins = [o for o in (eff.origin((*path, "tag")), eff.origin((*path, "digest"))) if o is not None]
    if repo_origin is not None and pins and max(layer_rank(o.layer) for o in pins) < layer_rank(repo_origin.layer):
        found.append(
            problem_at(
                eff,
                (*path, "repository"),
                f"application image '{repo_origin.value}' has no tag or digest of its own: the one in effect "
                f"(at {pins[0].where()}) was written for another image",
                f"set {dotted(path)}.tag (the application's release) or .digest next to the repository",
            )
        )
    elif tag and not digest and is_moving_tag(tag) and model.of(eff).tolerance == "production":
        found.append(
            problem_at(
                eff,
                (*path, "tag"),
                f"tag '{tag}' moves with every push: a restart in production can pull different code",
                f"name a release, or pin it with {dotted(path)}.digest",
            )
        )
    return found


def _check_tag(eff: Effective, path: Path_, tag: str, flink_version: str | None, digest: bool) -> list[Problem]:
    """An official Flink image's tag: the deployment's Flink release (a digest does not change
    which release the tag names), pinned to a patch release unless a digest pins it."""
    if tag.lower() == "latest":
        if digest:
            return []
        return [problem_at(eff, path, "'latest' is not a pinned tag", "name a release or set a digest")]
    release = flink_release(tag)
    if release is None:
        return []
    version, patch = release
    if flink_version is not None and version != flink_version:
        artifact = (*keys.ARTIFACT, "flinkVersion")
        tag_origin, version_origin = eff.origin(path), eff.origin(artifact)
        if version_origin and tag_origin and layer_rank(version_origin.layer) > layer_rank(tag_origin.layer):
            # the later of the two lines broke the agreement: blame flinkVersion
            return [
                problem_at(
                    eff,
                    artifact,
                    f"flinkVersion {flink_version} is not the Flink release of the image: tag '{tag}' (at "
                    f"{tag_origin.where()}) is Flink {version}",
                    f"set {dotted(path)} to a Flink {flink_version} image next to it",
                )
            ]
        return [
            problem_at(
                eff,
                path,
                f"tag '{tag}' is Flink {version}, but the deployment runs flinkVersion {flink_version} "
                f"(set at {where(eff, artifact)})",
                "keep the Apache Flink image and spec.template.spec.artifact.flinkVersion on the same release",
            )
        ]
    if patch is None and not digest:
        return [
            problem_at(
                eff,
                path,
                f"tag '{tag}' moves with every patch release",
                f"pin a patch release ({version}.N...) or set a digest",
            )
        ]
    return []

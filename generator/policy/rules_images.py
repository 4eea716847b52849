"""Rules on the images a deployment runs: where they come from and whether their tags are pinned.

Every image counts: the artifact's Flink image and any image in the rendered documents (containers
and init containers), so the rules hold for every target. Checklist sections "Networking and
connectivity" and "Governance and compliance" (docs/readiness.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from generator.model import keys
from generator.model.images import is_moving_tag
from generator.policy import documents
from generator.policy.model import Location, Priority, Subject, Violation
from generator.policy.registry import rule


def _images(subject: Subject, field: str = "flinkImageRegistry") -> list[tuple[str, Location]]:
    """Every image a deployment runs: the artifact's Flink image (located at its ``field``) and any
    image in its rendered documents."""
    artifact = subject.model.artifact
    registry, repository, tag = artifact.flink_image_registry, artifact.flink_image_repository, artifact.flink_image_tag
    found: list[tuple[str, Location]] = []
    if repository:
        image = f"{registry}/{repository}" if registry else repository
        found.append((f"{image}:{tag}" if tag else image, subject.where((*keys.ARTIFACT, field))))
    for doc in subject.documents:
        spec = doc.get("spec")
        if isinstance(spec, Mapping) and isinstance(spec.get("image"), str):
            found.append((spec["image"], subject.rendered_location()))
        for pod in documents.pods(doc):
            for container in [*pod.containers, *pod.spec.get("initContainers", [])]:
                if isinstance(container, Mapping) and isinstance(container.get("image"), str):
                    found.append((container["image"], subject.rendered_location()))
    return found


def _registry_of(image: str) -> str:
    name = image.split("@")[0]
    last = name.rsplit("/", 1)
    if len(last) == 2 and ":" in last[1]:
        name = f"{last[0]}/{last[1].split(':')[0]}"
    first = name.split("/", 1)[0]
    if "/" not in name or ("." not in first and ":" not in first and first != "localhost"):
        return "docker.io"  # an image without a registry host comes from Docker Hub
    return name.rsplit("/", 1)[0]


@rule(
    "IMG-001",
    item="Approved container registry",
    section="Networking and connectivity (container registry access)",
    priority=Priority.REQUIRED,
    checks="every image comes from a registry listed in platform.policy.approvedRegistries",
    dev_tolerance="public or vendor registries may serve development and evaluation; an approved internal "
    "registry is the production policy",
)
def approved_registry(subject: Subject) -> Iterator[Violation]:
    approved = subject.settings.approved_registries
    images = _images(subject)
    if not approved:
        yield Violation(
            "no approved registries are declared: the image source cannot be judged",
            (*keys.POLICY, "approvedRegistries"),
            None,
            "list the internal registry in platform.policy.approvedRegistries (baseline or namespace defaults)",
        )
        return
    for image, location in images:
        registry = _registry_of(image)
        if not any(registry == a or registry.startswith(a + "/") for a in approved):
            yield Violation(
                f"image {image} comes from {registry}, not an approved registry ({', '.join(approved)})",
                (*keys.ARTIFACT, "flinkImageRegistry"),
                registry,
                "mirror the image into the approved registry and set flinkImageRegistry to it",
                location,
            )


def _tag(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


@rule(
    "IMG-002",
    item="Pinned image tag",
    section="Governance and compliance (artifact versioning)",
    priority=Priority.REQUIRED,
    checks="every image has a fixed tag or a digest (no missing tag, no latest/latest-*/nightly/v1/...-SNAPSHOT)",
)
def pinned_tag(subject: Subject) -> Iterator[Violation]:
    for image, location in _images(subject, "flinkImageTag"):
        tag = _tag(image)
        if tag is None:
            continue
        if not tag or is_moving_tag(tag):
            yield Violation(
                f"image {image} has {'no tag' if not tag else 'the floating tag ' + tag}: a restart can pull "
                "different code",
                (*keys.ARTIFACT, "flinkImageTag"),
                tag or None,
                "pin a released tag such as 1.20.0-stream1-scala_2.12-java11, or a digest",
                location,
            )

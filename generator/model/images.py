"""What an image reference says, for every target: whose release its tag names, and whether the tag
moves.

An image's tag belongs to the image. Only the official Flink images are read as "this tag is
Flink X.Y": Docker Hub's ``flink`` (also ``library/flink``), ``apache/flink`` and Ververica
Platform's ``v<x.y>/flink`` (https://hub.docker.com/_/flink, https://hub.docker.com/r/apache/flink,
https://docs.ververica.com/vvp/user-guide/application-operations/deployments/artifacts). Any other
repository holds an application image built on Flink: its Flink version comes from ``flinkVersion``
and its tag is the application's own release (``1.0.0`` is not "Flink 1.0").
"""

from __future__ import annotations

import re

_OFFICIAL = re.compile(r"^(?:library/|apache/|v\d+\.\d+/)?flink$")
_VERSION_TAG = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")
#: Tags that name whatever was pushed last, not one build.
MOVING_TAGS = frozenset({"latest", "stable", "edge", "nightly", "main", "master", "dev", "current", "release"})
_MAJOR_ONLY = re.compile(r"^v?\d+$")


def is_official_flink(repository: str) -> bool:
    """Whether ``repository`` (without registry) is an official Flink image repository."""
    return bool(_OFFICIAL.match(repository.strip().lower()))


def flink_release(tag: str) -> tuple[str, str | None] | None:
    """The Flink release an official image's tag names: (``major.minor``, patch or None); None when
    the tag does not start with a version."""
    match = _VERSION_TAG.match(tag)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return f"{major}.{minor}", patch


def is_moving_tag(tag: str) -> bool:
    """Whether ``tag`` follows new pushes: ``latest`` and its variants (``latest-1.19``), the other
    well-known floating names, snapshots, and a major version alone (``v1``, ``2``)."""
    lowered = tag.lower()
    return (
        lowered in MOVING_TAGS
        or lowered.startswith("latest")
        or "snapshot" in lowered
        or bool(_MAJOR_ONLY.match(lowered))
    )


#: Layers in merge order (baseline < namespace < profile < environment < deployment < --set).
_LAYER_ORDER = ("baseline", "namespace ", "profile ", "environment ", "deployment ", "command line")


def layer_rank(label: str) -> int:
    """The merge position of the layer labelled ``label`` (-1 when unknown)."""
    for rank, prefix in enumerate(_LAYER_ORDER):
        if label.startswith(prefix):
            return rank
    return -1

"""The Ververica Platform version of an environment (``platform.vvp.version``) and what it decides.

Sources (docs/vvp.md, "Versions"):

- https://docs.ververica.com/docs/deprecations-and-removals: the ``vvp-kubernetes`` high-availability
  service was deprecated in 2.10.0 and removed in 2.12.0; the key form ``high-availability:`` (instead
  of ``high-availability.type``) was removed in 2.14.2;
- https://docs.ververica.com/vvp/user-guide/application-operations/deployments/k8s-resources:
  ``spec.template.spec.kubernetes.labels`` from 2.11, ``annotations`` from 2.15.11;
- https://docs.ververica.com/vvp3/user-guides/admin-operator-guide/kubernetes-operator/custom-resource-reference:
  the ``VvpDeployment`` of the VVP 3 operator (``ververica.platform/v1``); VVP 2's operator custom
  resources have another shape ("not directly compatible", …/kubernetes-operator/migration).
"""

from __future__ import annotations

import re

from generator import model
from generator.config.yamlload import Path_
from generator.model import keys

PATH: Path_ = (*keys.VVP, "version")
DEFAULT = (2, 14)
"""The version gen assumes when ``platform.vvp.version`` is unset (the version of the example's registry)."""

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


def parse(text: str) -> tuple[int, int, int]:
    match = _VERSION.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a Ververica Platform version (for example 2.14 or 3.1)")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def of(m: model.Deployment) -> tuple[int, int, int]:
    """The platform version of a configuration (``platform.vvp.version``, else :data:`DEFAULT`)."""
    text = m.vvp.raw.get("version")
    if text is None:
        return (*DEFAULT, 0)
    return parse(str(text))


def text(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version[:2])) + (f".{version[2]}" if version[2] else "")


def explicit(m: model.Deployment) -> bool:
    return m.vvp.raw.get("version") is not None

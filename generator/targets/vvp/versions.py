"""The Ververica Platform version of an environment (``platform.vvp.version``) and what it decides.

Sources (docs/vvp.md, "Versions"):

- https://docs.ververica.com/docs/deprecations-and-removals: the ``vvp-kubernetes`` high-availability
  service was deprecated in 2.10.0 and removed in 2.12.0; the key form ``high-availability:`` (instead
  of ``high-availability.type``) was removed in 2.14.2 — gen writes ``high-availability.type`` for
  every Flink version it accepts (1.18 and later read it), so that form never appears;
- https://docs.ververica.com/vvp/user-guide/application-operations/deployments/k8s-resources:
  ``spec.template.spec.kubernetes.labels`` from 2.11, ``annotations`` from 2.15.11;
- https://docs.ververica.com/vvp3/user-guides/admin-operator-guide/kubernetes-operator/custom-resource-reference:
  the ``VvpDeployment`` of the VVP 3 operator (``ververica.platform/v1``); VVP 2's operator custom
  resources have another shape ("not directly compatible", …/kubernetes-operator/migration);
- https://docs.ververica.com/vvp/user-guide/application-operations/rest-api-ci-cd: the AppManager REST
  resources (Deployment, DeploymentDefaults, DeploymentTarget, SessionCluster) are documented for
  "Ververica Platform: Self-Managed version 2.x"; the VVP 3 documentation describes no such resources
  (only a ``/api/v1/namespaces/{namespace}/deployments`` call in the example of
  https://docs.ververica.com/vvp3/user-guides/admin-operator-guide/access-control/api-tokens), so the
  REST target refuses VVP 3 and names the ``VvpDeployment`` route.
"""

from __future__ import annotations

import re

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.errors import Problem
from generator.model import keys
from generator.targets.vvp.located import problem

PATH: Path_ = (*keys.VVP, "version")
DEFAULT = (2, 14)
"""The version gen assumes for the REST target when ``platform.vvp.version`` is unset."""
DEFAULT_OPERATOR = (3, 1)
"""The version gen assumes for ``VvpDeployment`` (target vvp-operator) when it is unset: the VVP 3 operator
needs Ververica Platform 3.1 or later
(https://docs.ververica.com/vvp3/user-guides/admin-operator-guide/kubernetes-operator/install)."""
HA_SERVICE_REMOVED = (2, 12, 0)  # vvp-kubernetes
REST_API_LAST_MAJOR = 2
"""The last platform major version whose AppManager REST resources are documented (REST API page, "v2.x")."""
REST_API_DOCS = "https://docs.ververica.com/vvp/user-guide/application-operations/rest-api-ci-cd"

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


def parse(text: str) -> tuple[int, int, int]:
    match = _VERSION.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a Ververica Platform version (for example 2.14 or 3.1)")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def of(m: model.Deployment, default: tuple[int, int] = DEFAULT) -> tuple[int, int, int]:
    """The platform version of a configuration (``platform.vvp.version``, else ``default``)."""
    text = m.vvp.raw.get("version")
    if text is None:
        return (*default, 0)
    return parse(str(text))


def text(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version[:2])) + (f".{version[2]}" if version[2] else "")


def explicit(m: model.Deployment) -> bool:
    return m.vvp.raw.get("version") is not None


def ha_problems(eff: Effective) -> list[Problem]:
    """High availability in the forms the platform version still reads (deprecations and removals page)."""
    m = model.of(eff)
    version = of(m)
    found: list[Problem] = []
    if m.ha.type == "vvp-kubernetes":
        state = "was removed in VVP 2.12.0" if version >= HA_SERVICE_REMOVED else "is deprecated since VVP 2.10.0"
        found.append(
            problem(
                eff,
                (*keys.FLINK_CONF, "high-availability.type"),
                f"'vvp-kubernetes' {state} (VVP {text(version)} is configured): it was VVP's own high-availability "
                "service, replaced by Flink's Kubernetes HA",
                "use Flink's Kubernetes HA: high-availability.type: kubernetes with high-availability.storageDir",
            )
        )
    return found


def rest_problems(eff: Effective) -> list[Problem]:
    """The REST target (AppManager Deployments, DeploymentTargets, DeploymentDefaults, SessionClusters)
    on a platform version whose documentation describes those resources: VVP 2.x only."""
    version = of(model.of(eff))
    if version[0] <= REST_API_LAST_MAJOR:
        return []
    return [
        problem(
            eff,
            PATH,
            f"target vvp renders the AppManager REST resources (Deployment, DeploymentTarget, DeploymentDefaults, "
            f"SessionCluster), which Ververica documents for Ververica Platform 2.x ({REST_API_DOCS}), not for VVP "
            f"{text(version)}",
            "render for target vvp-operator (the VVP 3 operator's VvpDeployment: --target vvp-operator or "
            "platform.target: vvp-operator), or set platform.vvp.version to the VVP 2 installation's version",
        )
    ]

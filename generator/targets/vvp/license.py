"""The license values of the Ververica Platform chart, and the checks on ``vvp.registry``.

Chart 5.3.0 (``ververica/ververica-platform``, VVP 2.7; its ``values.yaml`` and ``_helpers.tpl``)
refuses to install without a license ("No Ververica Platform license provided") unless the Community
Edition license agreement is accepted (``acceptCommunityEditionLicense``, true by default in 5.3.0),
and Community Edition replaces ``vvp.persistence`` with ``local``: a jdbc datasource then fails the
install ("vvp.persistence.datasource.url may not be set when using 'local' persistence"). A license
is either ``vvp.license.data`` (from a second values file that gen never reads) or a file in the
platform's containers named by ``licenseConfigPath`` (a Spring configuration file, here mounted from
a Kubernetes Secret through the chart's ``volumes`` and ``volumeMounts``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import Problem
from generator.model import keys
from generator.targets.vvp import versions
from generator.targets.vvp.located import problem

PATH: Path_ = (*keys.VVP, "license")
VOLUME = "vvp-license"
MOUNT = "/vvp/license"
DEFAULT_KEY = "license.yaml"
_VERSIONED = re.compile(r"/v(\d+)\.(\d+)$")


def values(
    env: str,
    eff: Effective,
    setting: Mapping[str, Any] | None,
    persistence: Mapping[str, Any],
    tolerance: str | None,
    problems: list[Problem],
) -> dict[str, Any]:
    """The top-level chart values of the environment's license (``setting``: ``platform.vvp.license``)."""
    jdbc = persistence.get("type") == "jdbc"
    if not setting:
        if tolerance == "production":
            # nothing is written where the license belongs: blame the line that asks for production
            at = problem(eff, keys.TOLERANCE, "")
            problems.append(
                replace(
                    at,
                    key=dotted(PATH),
                    message=f"environment {env} has production tolerance and names no Ververica Platform license: "
                    "the chart installs Community Edition, which replaces jdbc persistence with local",
                    hint="set platform.vvp.license.secretName (a Secret with the license file) or .valuesFile in "
                    "the environment file",
                )
            )
        elif jdbc:
            problems.append(_community_jdbc(env, eff))
        return {}
    if setting.get("communityEdition"):
        if tolerance == "production":
            problems.append(
                problem(
                    eff,
                    (*PATH, "communityEdition"),
                    f"environment {env} has production tolerance: Community Edition stores the platform's metadata "
                    "in SQLite on a volume (the chart forces local persistence)",
                    "set platform.vvp.license.secretName or .valuesFile to the environment's license",
                )
            )
        elif jdbc:
            problems.append(_community_jdbc(env, eff))
        return {"acceptCommunityEditionLicense": True}
    out: dict[str, Any] = {"acceptCommunityEditionLicense": False}
    secret = setting.get("secretName")
    if secret:
        key = str(setting.get("file") or DEFAULT_KEY)
        out["licenseConfigPath"] = f"file:{MOUNT}/{key}"
        out["volumes"] = [{"name": VOLUME, "secret": {"secretName": str(secret)}}]
        out["volumeMounts"] = [{"name": VOLUME, "mountPath": MOUNT, "readOnly": True}]
    return out


def _community_jdbc(env: str, eff: Effective) -> Problem:
    return problem(
        eff,
        (*keys.VVP_HELM, "persistence", "type"),
        f"environment {env} runs Community Edition (no license): the chart replaces jdbc persistence with local and "
        "then refuses the datasource",
        "set platform.vvp.license, or persistence.type: local where the environment tolerates it",
    )


def registry_problems(eff: Effective, registry: str) -> list[Problem]:
    """``vvp.registry`` serves the platform's own images as well as Flink's: a registry path that names a
    platform version (Ververica's registry and its mirrors: ``…/v2.14``) must name the configured one."""
    m = model.of(eff)
    match = _VERSIONED.search(registry)
    if match is None or not versions.explicit(m):
        return []
    version = versions.of(m)
    if (int(match.group(1)), int(match.group(2))) == version[:2]:
        return []
    return [
        problem(
            eff,
            (*keys.ARTIFACT, "flinkImageRegistry"),
            f"registry {registry} serves the images of Ververica Platform {match.group(1)}.{match.group(2)}, but "
            f"platform.vvp.version is {versions.text(version)}: the chart pulls the platform's own images "
            "(vvp-appmanager, vvp-gateway, vvp-ui) from vvp.registry too",
            "use the registry path of the configured platform version",
        )
    ]

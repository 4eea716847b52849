"""Session jobs as the Flink Kubernetes Operator 1.15 validates them.

The operator fetches a FlinkSessionJob's jar itself and accepts only the URI schemes of its option
``kubernetes.operator.user.artifacts.allowed-schemes`` (default ``https``); for http and https it
also refuses hosts that resolve to loopback, link-local, site-local, wildcard or multicast
addresses unless ``kubernetes.operator.user.artifacts.disallow-restricted-hosts`` is false
(https://nightlies.apache.org/flink/flink-kubernetes-operator-docs-release-1.15/docs/custom-resource/overview/#flinksessionjob-spec-overview,
https://nightlies.apache.org/flink/flink-kubernetes-operator-docs-release-1.15/docs/operations/configuration/#system-configuration).
Both are operator-wide settings: gen writes the allowlist into the operator's Helm values as
exactly the schemes the environment's session jobs use, and refuses a session job whose jar the
operator would refuse, at the line that names the jar.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from generator import model
from generator.config.resolve import Effective
from generator.errors import Problem
from generator.model import keys
from generator.render.context import DeploymentView
from generator.targets.flink_operator.settings import problem_at

ALLOWED_SCHEMES_KEY = "kubernetes.operator.user.artifacts.allowed-schemes"
RESTRICTED_HOSTS_KEY = "kubernetes.operator.user.artifacts.disallow-restricted-hosts"
#: Host names that resolve to the pod itself or to cluster-internal (site-local) addresses.
_INTERNAL_SUFFIXES = (".svc", ".cluster.local", ".local", ".localdomain")


def jar_scheme(eff: Effective) -> str | None:
    """The lower-case scheme of a session job's jar URI (None without one)."""
    return model.of(eff).artifact.jar_scheme


def allowed_schemes(deployments: Iterable[DeploymentView]) -> list[str]:
    """The schemes of every session job's jar in an environment, sorted."""
    found = {d.jar_scheme for d in deployments if d.session}
    return sorted(s for s in found if s)


def _restricted_hosts(eff: Effective) -> bool:
    chart_conf = model.of(eff).operator.chart.get("defaultConfiguration") or {}
    return str(chart_conf.get(RESTRICTED_HOSTS_KEY, "true")).lower() != "false"


def _restricted(host: str) -> str | None:
    """Why the operator would refuse ``host`` (None when it resolves to a public address, as far as
    gen can tell without resolving names)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        lowered = host.lower().rstrip(".")
        if lowered == "localhost" or lowered.endswith(".localhost"):
            return "resolves to a loopback address"
        if "." not in lowered or lowered.endswith(_INTERNAL_SUFFIXES):
            return "is a cluster-internal or local name, which resolves to a private address"
        return None
    for what, flag in (
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a private (site-local) address", address.is_private),
        ("the wildcard address", address.is_unspecified),
        ("a multicast address", address.is_multicast),
    ):
        if flag:
            return f"is {what}"
    return None


def jar_problems(eff: Effective) -> list[Problem]:
    """What the operator's validator would refuse of a session job's jar URI."""
    m = model.of(eff)
    uri = m.artifact.jar_uri
    if not uri or (m.artifact.kind or "JAR") != "JAR":
        return []
    path = (*keys.ARTIFACT, "jarUri")
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https") or not _restricted_hosts(eff):
        return []
    host = parts.hostname or ""
    if not host:
        return [problem_at(eff, path, "the operator needs a host in an http(s) jar URI of a session job")]
    reason = _restricted(host)
    if reason is None:
        return []
    return [
        problem_at(
            eff,
            path,
            f"the Flink Kubernetes Operator refuses this session job: jar host '{host}' {reason} "
            f"({RESTRICTED_HOSTS_KEY})",
            "serve the jar from a public https host or an object store (s3://, gs://, ...)",
        )
    ]

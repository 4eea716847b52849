"""NetworkPolicies of a Flink namespace, derived from the Flink configuration of its deployments.

Default deny for ingress and egress, then exactly the paths a Flink cluster uses:

- DNS (port 53, UDP and TCP) to the cluster DNS;
- inside one deployment: TaskManager -> JobManager RPC and blob server, JobManager -> TaskManager RPC,
  TaskManager <-> TaskManager data exchange (shuffle), JobManager -> JobManager/TaskManager metric query
  service (standby JobManagers serve REST through the leader's RPC);
- REST/UI from the declared clients (Ververica Platform, the ingress, the Flink operator);
- the metrics port from the Prometheus pods of the monitoring namespace;
- the Kubernetes API (ipBlock) for the components that call it (Kubernetes HA, native mode);
- the object store and every declared source and sink (ipBlock + ports).

Every port comes from the deployment's effective Flink configuration (the key Flink really binds, e.g.
``high-availability.jobmanager.port`` instead of ``jobmanager.rpc.port`` when HA is on); a port Flink
would pick at random is an input problem, so policy and configuration always agree.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.errors import Problem
from generator.model import keys
from generator.render import pods
from generator.render import target as targets
from generator.render.context import Peer
from generator.render.located import problem_at, problem_at_item

PROMETHEUS_FACTORY = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
DEFAULT_API_PORTS: tuple[int | str, ...] = (443, 6443)
DEFAULT_DNS_NAMESPACE = "kube-system"
DEFAULT_DNS_LABELS = {"k8s-app": "kube-dns"}


@dataclass(frozen=True, order=True)
class PortRange:
    low: int
    high: int

    def policy_port(self, protocol: str = "TCP") -> dict[str, Any]:
        port: dict[str, Any] = {"port": self.low, "protocol": protocol}
        if self.high > self.low:
            port["endPort"] = self.high
        return port


Ports = tuple[PortRange, ...]


@dataclass(frozen=True)
class FlinkPorts:
    """The ports one deployment's Flink processes listen on."""

    rest: Ports
    jobmanager_rpc: Ports
    blob: Ports
    taskmanager_rpc: Ports
    data: Ports
    query_service: Ports
    metrics: Ports


@dataclass(frozen=True)
class Destination:
    """An egress destination outside the cluster: CIDRs and ports."""

    name: str
    cidrs: tuple[str, ...]
    ports: Ports
    protocol: str = "TCP"


@dataclass(frozen=True)
class DeploymentNetwork:
    """What the NetworkPolicies of one deployment need to know."""

    name: str
    ports: FlinkPorts
    api_components: frozenset[str]  # components that call the Kubernetes API
    rest_clients: tuple[Peer, ...]
    api_server: Destination | None
    egress: tuple[Destination, ...]  # object store first, then sources and sinks by name


# -- Flink configuration ---------------------------------------------------------------------------------
def parse_ports(text: str) -> Ports:
    """``6123``, ``50100-50200`` or ``6123,6124``; raises ValueError with the reason."""
    ranges: list[PortRange] = []
    for part in text.replace(" ", "").split(","):
        low_text, sep, high_text = part.partition("-")
        try:
            low = int(low_text)
            high = int(high_text) if sep else low
        except ValueError:
            raise ValueError(f"'{text}' is not a port, a port range (50100-50200) or a list of them") from None
        if low == 0 or high == 0:
            raise ValueError("0 lets Flink pick a random port, which no NetworkPolicy can allow")
        if not (1 <= low <= high <= 65535):
            raise ValueError(f"'{part}' is not a port range within 1-65535")
        ranges.append(PortRange(low, high))
    return tuple(sorted(set(ranges)))


# role -> (keys, the first one set wins; Flink's default when none is set; hint)
_PORT_KEYS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "rest": (("rest.bind-port", "rest.port"), "8081", "rest.port: 8081"),
    "jobmanager_rpc": (("jobmanager.rpc.port",), "6123", "jobmanager.rpc.port: 6123"),
    "ha_jobmanager_rpc": (
        ("high-availability.jobmanager.port",),
        "0",
        "high-availability.jobmanager.port: 6123 (with HA the JobManager binds its RPC service there)",
    ),
    "blob": (("blob.server.port",), "0", "blob.server.port: 6124"),
    "taskmanager_rpc": (("taskmanager.rpc.port",), "0", "taskmanager.rpc.port: 6122"),
    "data": (("taskmanager.data.bind-port", "taskmanager.data.port"), "0", "taskmanager.data.port: 6121"),
    "query_service": (("metrics.internal.query-service.port",), "0", "metrics.internal.query-service.port: 6125"),
    "metrics": (("metrics.reporter.prom.port",), "9249", "metrics.reporter.prom.port: 9249"),
}


def _port_role(eff: Effective, role: str, problems: list[Problem]) -> Ports:
    candidates, default, example = _PORT_KEYS[role]
    conf = model.of(eff).conf
    key = next((k for k in candidates if k in conf), candidates[-1])
    text = conf.get(key, default)
    path = (*keys.FLINK_CONF, key)
    try:
        ports = parse_ports(text)
    except ValueError as exc:
        unset = key not in conf
        message = f"not set, so Flink picks a random port ({exc})" if unset else str(exc)
        # a port nobody pinned is reported where the setting that needs it is (with HA: its type)
        near = (*keys.FLINK_CONF, model.HA_TYPE) if role == "ha_jobmanager_rpc" else None
        problems.append(problem_at(eff, path, message, f"pin it, e.g. {example}", near=near))
        return ()
    if role == "metrics" and (len(ports) != 1 or ports[0].low != ports[0].high):
        problems.append(
            problem_at(
                eff,
                path,
                f"'{text}' is not a single port: every pod runs one reporter, and the PodMonitor scrapes the "
                "one named container port",
                f"use one port, e.g. {example}",
            )
        )
    return ports


def flink_ports(eff: Effective, problems: list[Problem]) -> FlinkPorts:
    def role(name: str) -> Ports:
        return _port_role(eff, name, problems)

    return FlinkPorts(
        rest=role("rest"),
        jobmanager_rpc=role("ha_jobmanager_rpc" if model.of(eff).ha.enabled else "jobmanager_rpc"),
        blob=role("blob"),
        taskmanager_rpc=role("taskmanager_rpc"),
        data=role("data"),
        query_service=role("query_service"),
        metrics=role("metrics"),
    )


def reporter_problems(eff: Effective) -> list[Problem]:
    """The Prometheus reporter named ``prom`` must be configured and started in every Flink configuration."""
    conf = model.of(eff).conf
    found: list[Problem] = []
    factory_key = "metrics.reporter.prom.factory.class"
    if conf.get(factory_key) != PROMETHEUS_FACTORY:
        found.append(
            problem_at(
                eff,
                (*keys.FLINK_CONF, factory_key),
                "the Prometheus reporter is not configured: Prometheus would find no Flink metrics",
                f"set {factory_key}: {PROMETHEUS_FACTORY}",
            )
        )
    legacy = "metrics.reporter.prom.class"
    if legacy in conf:
        found.append(
            problem_at(
                eff,
                (*keys.FLINK_CONF, legacy),
                "reporters configured by class are not supported since Flink 1.17",
                f"remove it and set {factory_key}: {PROMETHEUS_FACTORY}",
            )
        )
    enabled = conf.get("metrics.reporters")
    if enabled is not None and "prom" not in [r.strip() for r in enabled.split(",")]:
        found.append(
            problem_at(
                eff,
                (*keys.FLINK_CONF, "metrics.reporters"),
                f"'{enabled}' does not start the Prometheus reporter 'prom'",
                "add prom to the list, or remove metrics.reporters to start every configured reporter",
            )
        )
    if conf.get("queryable-state.enable", "false") == "true":
        found.append(
            problem_at(
                eff,
                (*keys.FLINK_CONF, "queryable-state.enable"),
                "queryable state (deprecated since Flink 1.18) listens on ports its clients reach from anywhere; "
                "gen's NetworkPolicies do not admit it",
                "remove queryable-state.enable",
            )
        )
    return found


# -- platform.kubernetes ----------------------------------------------------------------------------------
Locate = Callable[..., Problem]  # (sub-path, message, hint="") -> a located problem


def _ports_setting(values: Any, locate: Locate, problems: list[Problem]) -> Ports:
    result: list[PortRange] = []
    for index, value in enumerate(values or []):
        try:
            result.extend(parse_ports(str(value)))
        except ValueError as exc:
            problems.append(locate(("ports", index), str(exc)))
    return tuple(sorted(set(result)))


def _cidrs(eff: Effective, values: Any, locate: Locate, problems: list[Problem]) -> tuple[str, ...]:
    production = model.of(eff).tolerance == "production"
    result: list[str] = []
    for index, text in enumerate(values or []):
        try:
            network = ipaddress.ip_network(str(text), strict=True)
        except ValueError as exc:
            problems.append(
                locate(
                    ("cidrs", index), f"'{text}' is not a network: {exc}", "write the network address, e.g. 10.0.0.0/16"
                )
            )
            continue
        if network.prefixlen == 0 and production:
            problems.append(
                locate(
                    ("cidrs", index),
                    f"{text} allows egress to every address, which production does not tolerate",
                    "name the destination's own network (a private endpoint, a VPC endpoint, the service's CIDR)",
                )
            )
        result.append(str(network))
    return tuple(result)


def _at(eff: Effective, path: Path_) -> Locate:
    def locate(sub: Path_, message: str, hint: str = "") -> Problem:
        return problem_at(eff, (*path, *sub), message, hint)

    return locate


def _at_item(eff: Effective, list_path: Path_, name: str) -> Locate:
    def locate(sub: Path_, message: str, hint: str = "") -> Problem:
        return problem_at_item(eff, list_path, name, sub, message, hint)

    return locate


def _destination(eff: Effective, entry: Any, name: str, locate: Locate, problems: list[Problem]) -> Destination | None:
    if not isinstance(entry, Mapping):
        return None
    cidrs = _cidrs(eff, entry.get("cidrs"), locate, problems)
    ports = _ports_setting(entry.get("ports"), locate, problems)
    return Destination(name, cidrs, ports, str(entry.get("protocol", "TCP")))


def _labels(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in (value or {}).items()))


def rest_clients(eff: Effective, target: str) -> tuple[Peer, ...]:
    peers = [
        Peer(str(p["name"]), str(p["namespace"]), _labels(p.get("podLabels")))
        for p in model.of(eff).kubernetes.rest_clients
    ]
    peers.extend(targets.get(target).rest_clients(eff))
    # one rule per set of pods: a client declared twice (by the environment and by the target) is one
    unique = {(p.namespace, p.pod_labels): p for p in sorted(peers, key=lambda p: p.name, reverse=True)}
    return tuple(sorted(unique.values(), key=lambda p: (p.namespace, p.name)))


def _uses_object_store(eff: Effective) -> tuple[str, str] | None:
    """The first state location that is not on the pod's own file system: (key, URI)."""
    for key in (
        "high-availability.storageDir",
        "execution.checkpointing.dir",
        "execution.checkpointing.savepoint-dir",
    ):
        uri = model.of(eff).conf.get(key, "")
        scheme = uri.partition("://")[0] if "://" in uri else ""
        if scheme and scheme != "file":
            return key, uri
    return None


def deployment_network(
    eff: Effective, target: str, api_components: frozenset[str], problems: list[Problem]
) -> DeploymentNetwork:
    """Check and collect one deployment's network settings (problems are appended, never raised)."""
    facts = model.of(eff)
    ports = flink_ports(eff, problems)
    problems.extend(reporter_problems(eff))
    clients = rest_clients(eff, target)
    if not clients:
        problems.append(
            problem_at(
                eff,
                (*keys.NETWORK_POLICY, "restClients"),
                "no REST client is declared: nothing (not Ververica Platform, not the ingress) could reach the "
                "JobManager REST API",
                "declare platform.kubernetes.networkPolicy.restClients: [{name: vvp, namespace: <VVP's namespace>}]",
            )
        )
    api_server = None
    if api_components:
        api_server = _destination(
            eff, facts.kubernetes.api_server, "kubernetes-api", _at(eff, keys.API_SERVER), problems
        )
        if api_server is None:
            reason = "Kubernetes HA" if facts.ha.enabled else "native Kubernetes mode"
            problems.append(
                problem_at(
                    eff,
                    (*keys.FLINK_CONF, model.HA_TYPE) if facts.ha.enabled else keys.TARGET,
                    f"{reason} needs the Kubernetes API, but platform.kubernetes.apiServer is not set",
                    "set platform.kubernetes.apiServer.cidrs to the API server endpoints (kubectl get "
                    "endpointslices -n default -l kubernetes.io/service-name=kubernetes)",
                )
            )
        elif not api_server.ports:
            api_server = Destination(
                api_server.name, api_server.cidrs, tuple(PortRange(int(p), int(p)) for p in DEFAULT_API_PORTS)
            )
    egress: list[Destination] = []
    store_path = (*keys.NETWORK_POLICY, "objectStore")
    store = _destination(eff, facts.kubernetes.object_store, "object-store", _at(eff, store_path), problems)
    if store is not None:
        egress.append(store)
    else:
        used = _uses_object_store(eff)
        if used is not None:
            problems.append(
                problem_at(
                    eff,
                    (*keys.FLINK_CONF, used[0]),
                    f"{used[1]} is on an object store, but no egress to it is declared",
                    "set platform.kubernetes.networkPolicy.objectStore: {cidrs: [...], ports: [443]}",
                )
            )
    egress_path = (*keys.NETWORK_POLICY, "egress")
    for entry in sorted(facts.kubernetes.egress, key=lambda item: str(item.get("name"))):
        name = str(entry.get("name"))
        destination = _destination(eff, entry, name, _at_item(eff, egress_path, name), problems)
        if destination is not None:
            egress.append(destination)
    return DeploymentNetwork(eff.deployment, ports, api_components, clients, api_server, tuple(egress))


# -- policies ---------------------------------------------------------------------------------------------
def component_selector(deployment: str, component: str) -> dict[str, Any]:
    return {"matchLabels": {pods.POD_LABEL_DEPLOYMENT: deployment, pods.POD_LABEL_COMPONENT: component}}


def _pods_of(deployment: str, component: str) -> dict[str, Any]:
    return {"podSelector": component_selector(deployment, component)}


def _ports(*groups: Ports) -> list[dict[str, Any]]:
    unique = sorted({p for group in groups for p in group})
    return [p.policy_port() for p in unique]


Rule = dict[str, Any]


def _rule(peer_key: str, peers: list[dict[str, Any]], ports: list[dict[str, Any]]) -> list[Rule]:
    """One rule, or none: an empty peer list or port list would allow every peer or every port."""
    return [{peer_key: peers, "ports": ports}] if peers and ports else []


@dataclass(frozen=True)
class Scraper:
    """The Prometheus pods that scrape the metrics port."""

    namespace: str
    pod_labels: tuple[tuple[str, str], ...]

    def peer(self) -> dict[str, Any]:
        return Peer("prometheus", self.namespace, self.pod_labels).selector()


def _api_rule(net: DeploymentNetwork, component: str) -> list[Rule]:
    if component in net.api_components and net.api_server is not None:
        return _rule("to", [{"ipBlock": {"cidr": c}} for c in net.api_server.cidrs], _ports(net.api_server.ports))
    return []


def jobmanager_rules(net: DeploymentNetwork, scraper: Scraper) -> tuple[list[Rule], list[Rule]]:
    d, p = net.name, net.ports
    ingress = [
        *_rule("from", [_pods_of(d, "taskmanager")], _ports(p.jobmanager_rpc, p.blob)),
        *_rule("from", [_pods_of(d, "jobmanager")], _ports(p.jobmanager_rpc, p.query_service)),
        *_rule("from", [c.selector() for c in net.rest_clients], _ports(p.rest)),
        *_rule("from", [scraper.peer()], _ports(p.metrics)),
    ]
    egress = [
        *_rule("to", [_pods_of(d, "taskmanager")], _ports(p.taskmanager_rpc, p.query_service)),
        *_rule("to", [_pods_of(d, "jobmanager")], _ports(p.jobmanager_rpc, p.query_service)),
        *_api_rule(net, "jobmanager"),
    ]
    return ingress, egress


def taskmanager_rules(net: DeploymentNetwork, scraper: Scraper) -> tuple[list[Rule], list[Rule]]:
    d, p = net.name, net.ports
    ingress = [
        *_rule("from", [_pods_of(d, "jobmanager")], _ports(p.taskmanager_rpc, p.query_service)),
        *_rule("from", [_pods_of(d, "taskmanager")], _ports(p.data)),
        *_rule("from", [scraper.peer()], _ports(p.metrics)),
    ]
    egress = [
        *_rule("to", [_pods_of(d, "jobmanager")], _ports(p.jobmanager_rpc, p.blob)),
        *_rule("to", [_pods_of(d, "taskmanager")], _ports(p.data)),
        *_api_rule(net, "taskmanager"),
    ]
    return ingress, egress


def egress_rules(net: DeploymentNetwork) -> list[Rule]:
    """Object store, sources and sinks: the same for both components (a Kafka source's split
    enumerator runs on the JobManager, its readers on the TaskManagers)."""
    rules: list[Rule] = []
    for destination in net.egress:
        peers = [{"ipBlock": {"cidr": c}} for c in destination.cidrs]
        rules.extend(_rule("to", peers, [p.policy_port(destination.protocol) for p in destination.ports]))
    return rules


RULES: dict[str, Callable[[DeploymentNetwork, Scraper], tuple[list[Rule], list[Rule]]]] = {
    "jobmanager": jobmanager_rules,
    "taskmanager": taskmanager_rules,
}


def dns_rule(eff: Effective, problems: list[Problem]) -> Rule:
    dns = model.of(eff).kubernetes.dns
    namespace = dns.namespace or DEFAULT_DNS_NAMESPACE
    labels = _labels(dns.pod_labels) or tuple(DEFAULT_DNS_LABELS.items())
    peers: list[dict[str, Any]] = [Peer("dns", namespace, labels).selector()]
    peers.extend({"ipBlock": {"cidr": c}} for c in _cidrs(eff, dns.cidrs, _at(eff, keys.DNS), problems))
    port = PortRange(53, 53)
    return {"to": peers, "ports": [port.policy_port("UDP"), port.policy_port("TCP")]}

"""JobManager and TaskManager pod templates, built once from the effective configuration.

Users describe pods in one of the two shapes Ververica Platform documents
(https://docs.ververica.com/vvp/user-guide/application-operations/deployments/k8s-resources):

- ``spec.template.spec.kubernetes.pods``: options for both components (labels, nodeSelector,
  tolerations, securityContext, envVars, imagePullSecrets, ``volumeMounts`` as
  ``{name, volume, volumeMount}``);
- ``jobManagerPodTemplate`` / ``taskManagerPodTemplate``: a full Kubernetes PodTemplateSpec per
  component (sidecars, initContainers, volumes of any source). The platform takes one or the other;
  when a configuration has both (an environment's ``pods``, a deployment's template), gen renders
  only the templates with every ``pods`` option merged into them (:mod:`generator.render.pod_options`).

Every target renders full pod templates from that description (VVP's pod templates, the operator's
``podTemplate``s). The user's template is the base; gen's own settings (labels, ServiceAccount, a
*named* metrics port, the container security context, container resources where the platform
reads limits from the pod template) are merged into it, never replacing it. A user value that
contradicts one of gen's is an error at the line that wrote it. The user's templates are checked
strictly against the Kubernetes OpenAPI schema, located, before anything renders.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from generator import model, units
from generator.config.resolve import Effective
from generator.config.yamlload import Path_, dotted
from generator.errors import InputError, Problem
from generator.model import keys
from generator.render import pod_options
from generator.validate import kubernetes as k8s
from generator.validate import vvp_schemas

COMPONENTS = ("jobmanager", "taskmanager")
METRICS_PORT_NAME = "metrics"
POD_LABEL_DEPLOYMENT = "flink-deployment"
POD_LABEL_COMPONENT = "component"
DEFAULT_SERVICE_ACCOUNTS = {"jobmanager": "flink-jobmanager", "taskmanager": "flink-taskmanager"}
#: Flink's limit factors: read by Flink's native Kubernetes integration only
LIMIT_FACTOR_KEYS = tuple(f"kubernetes.{c}.{r}.limit-factor" for c in COMPONENTS for r in ("cpu", "memory"))
_BINARY = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50}


@dataclass(frozen=True)
class PodSettings:
    """What a target decides about its pods (container names differ between platforms)."""

    container_names: dict[str, str]
    # components that always call the Kubernetes API (a native-mode JobManager creates its TaskManagers)
    needs_api: frozenset[str] = frozenset()
    # the platform takes container limits (and ephemeral storage) only from the pod template (VVP)
    container_resources: bool = False
    # the platform's own schema of a pod template, where it has one: path inside the template, message
    platform_check: Callable[[Mapping[str, Any]], list[tuple[tuple[str | int, ...], str]]] | None = None


VVP_PODS = PodSettings(
    {"jobmanager": "flink-jobmanager", "taskmanager": "flink-taskmanager"},
    container_resources=True,
    platform_check=vvp_schemas.pod_template_problems,
)
OPERATOR_PODS = PodSettings({"jobmanager": "flink-main-container", "taskmanager": "flink-main-container"})
OPERATOR_NATIVE_PODS = PodSettings(OPERATOR_PODS.container_names, frozenset({"jobmanager"}))


def pod_labels(eff: Effective, component: str | None = None) -> dict[str, str]:
    """Labels every Flink pod of a deployment carries; PodMonitors and policies select on them."""
    labels = {
        "app.kubernetes.io/name": "flink",
        "app.kubernetes.io/instance": eff.deployment,
        "app.kubernetes.io/managed-by": "gen",
        POD_LABEL_DEPLOYMENT: eff.deployment,
    }
    if component is not None:
        labels[POD_LABEL_COMPONENT] = component
    return labels


def service_account(eff: Effective, component: str) -> str:
    return model.of(eff).service_account(component, DEFAULT_SERVICE_ACCOUNTS[component])


def needs_kubernetes_api(eff: Effective) -> bool:
    """Kubernetes HA keeps leader election and HA metadata in ConfigMaps: the pods need the API."""
    return model.of(eff).ha.kubernetes


def metrics_port(eff: Effective) -> int:
    """The Prometheus reporter port (the first of a range): the named container port."""
    return model.of(eff).metrics_port


def container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
    }


# -- sizes -----------------------------------------------------------------------------------------
def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def cpu_quantity(millicores: int) -> str:
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def memory_quantity(nbytes: int) -> str:
    for suffix, factor in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if nbytes % factor == 0:
            return f"{nbytes // factor}{suffix}"
    return str(nbytes)


_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}


def quantity_bytes(value: Any) -> int:
    """Bytes of a Kubernetes memory or storage quantity (``128Mi``, ``1G``, ``1048576``), rounded up."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?", str(value).strip())
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    suffix = match.group(2) or ""
    factor = _BINARY.get(suffix) or _DECIMAL[suffix]
    return _ceil(Decimal(match.group(1)) * factor)


def storage_bytes(quantity: str) -> int:
    """Bytes of an ephemeral-storage quantity as the input schema allows it (``10Gi``)."""
    match = re.fullmatch(r"([0-9]+)(Ki|Mi|Gi|Ti)", quantity)
    if match is None:
        raise ValueError(f"not a binary quantity: {quantity!r}")  # the input schema refused it already
    return int(match.group(1)) * _BINARY[match.group(2)]


def limit_factor(eff: Effective, component: str, resource: str, problems: list[Problem]) -> Decimal:
    key = f"kubernetes.{component}.{resource}.limit-factor"
    text = model.of(eff).conf.get(key, "1.0")
    m = model.of(eff)
    try:
        factor = Decimal(text)
    except ArithmeticError:
        problems.append(m.problem((*keys.FLINK_CONF, key), f"'{text}' is not a number"))
        return Decimal(1)
    if not factor.is_finite() or factor < 1:
        problems.append(m.problem((*keys.FLINK_CONF, key), f"{text} is below 1: a limit below the request"))
        return Decimal(1)
    return factor


@dataclass(frozen=True)
class ContainerSize:
    """One JobManager or TaskManager container: CPU in millicores, memory and storage in bytes."""

    cpu_request: int
    memory_request: int
    cpu_limit: int
    memory_limit: int
    ephemeral_storage: int  # request and limit; 0 when not set

    def resources(self) -> dict[str, Any]:
        """As Kubernetes container ``resources``."""
        requests = {"cpu": cpu_quantity(self.cpu_request), "memory": memory_quantity(self.memory_request)}
        limits = {"cpu": cpu_quantity(self.cpu_limit), "memory": memory_quantity(self.memory_limit)}
        if self.ephemeral_storage:
            requests["ephemeral-storage"] = limits["ephemeral-storage"] = memory_quantity(self.ephemeral_storage)
        return {"limits": limits, "requests": requests}


def container_size(eff: Effective, component: str, problems: list[Problem]) -> ContainerSize:
    """The requests are the resources; the limits the requests times Flink's
    ``kubernetes.<component>.{cpu,memory}.limit-factor`` (1 when unset)."""
    resources = model.of(eff).resources[component]
    cpu = Decimal(str(1 if resources.cpu is None else resources.cpu))
    memory = units.parse_memory("1g" if resources.memory is None else resources.memory)
    cpu_m = _ceil(cpu * 1000)
    storage = storage_bytes(resources.ephemeral_storage) if resources.ephemeral_storage else 0
    return ContainerSize(
        cpu_request=cpu_m,
        memory_request=memory,
        cpu_limit=_ceil(cpu_m * limit_factor(eff, component, "cpu", problems)),
        memory_limit=_ceil(memory * limit_factor(eff, component, "memory", problems)),
        ephemeral_storage=storage,
    )


# -- the user's pod, as written ---------------------------------------------------------------------
_from_options = pod_options.from_options


def _options_path(path: tuple[str | int, ...]) -> Path_:
    """Where a field of the template built from ``pods`` was written in ``pods``."""
    if path[:2] == ("spec", "volumes") and len(path) > 2:
        return (*keys.PODS, "volumeMounts", path[2], "volume", *path[3:])
    if path[:4] == ("spec", "containers", 0, "volumeMounts") and len(path) > 4:
        return (*keys.PODS, "volumeMounts", path[4], "volumeMount", *path[5:])
    if path[:4] == ("spec", "containers", 0, "env"):
        return (*keys.PODS, "envVars", *path[4:])
    if path[:1] == ("metadata",) or path[:1] == ("spec",):
        return (*keys.PODS, *path[1:])
    return keys.PODS


def _shown(value: Any) -> str:
    """A value as YAML flow text would show it (true, "text", {cpu: 1})."""
    return json.dumps(value, sort_keys=True)


@dataclass
class _Building:
    """One component's pod template while gen merges into it: where each user field was written."""

    eff: Effective
    component: str
    template: dict[str, Any]
    from_options: bool
    problems: list[Problem]

    def where(self, path: tuple[str | int, ...]) -> Path_:
        if self.from_options:
            return _options_path(path)
        return (*keys.POD_TEMPLATES[self.component], *path)

    def conflict(self, path: tuple[str | int, ...], what: str, theirs: Any, ours: Any, hint: str) -> None:
        self.problems.append(
            model.of(self.eff).problem(
                self.where(path), f"{what} is {_shown(theirs)} here; gen renders {_shown(ours)} for it", hint
            )
        )

    def set(self, path: tuple[str | int, ...], node: dict[str, Any], key: str, value: Any, hint: str) -> None:
        """``node[key] = value`` unless the user wrote another value there."""
        if key in node and node[key] != value:
            self.conflict((*path, key), key, node[key], value, hint)
        else:
            node[key] = value


def user_template(
    eff: Effective, component: str, settings: PodSettings, problems: list[Problem]
) -> tuple[dict[str, Any], bool]:
    """The user's pod for one component (a deep copy) and whether it came from ``pods``, checked
    strictly as a Kubernetes PodTemplateSpec and against the platform's schema where it has one."""
    main = settings.container_names[component]
    m = model.of(eff)
    own = m.pod_templates.get(component)
    if own is None:
        return _from_options(m.pods, main), True
    template = copy.deepcopy(dict(own))
    checked = {**template, "spec": dict(template.get("spec") or {})}
    checked["spec"].setdefault("containers", [{"name": main}])  # gen adds the Flink container when none is written
    found = k8s.pod_template_problems(checked)
    if settings.platform_check is not None and not found:
        found = settings.platform_check(checked)
    for path, message in found:
        problems.append(m.problem((*keys.POD_TEMPLATES[component], *path), message))
    template.setdefault("metadata", {})
    template.setdefault("spec", {})
    return template, False


def options_conflicts(b: _Building, main_index: int) -> None:
    """Merge ``pods`` into the user's template (:mod:`generator.render.pod_options`): the platform takes
    one or the other, so gen renders the template with every pod option in it; a value both set
    differently is an error at the template's line that names the line of ``pods``."""
    m = model.of(b.eff)
    options = _from_options(m.pods, b.template["spec"]["containers"][main_index]["name"])
    for c in pod_options.merge_into(b.template, options, main_index):
        origin = m.origin(_options_path(c.options_path))
        where = f" ({origin.where()})" if origin is not None else ""
        cleared = _options_path(c.options_path)
        cleared = cleared[: next((i for i, part in enumerate(cleared) if isinstance(part, int)), len(cleared))]
        b.problems.append(
            m.problem(
                b.where(c.template_path),
                f"{_shown(c.template_value)} here, but pods{where} sets {_shown(c.options_value)}: gen merges "
                "pods into both components' pod templates",
                f"write the same value in both places, or clear it with {dotted(cleared)}: null in this layer",
            )
        )


def options_problems(eff: Effective) -> list[Problem]:
    """``pods`` as Kubernetes objects: each volumeMount's Volume and VolumeMount, strictly."""
    m = model.of(eff)
    found: list[Problem] = []
    for path, message in k8s.pod_template_problems(_from_options(m.pods, "flink")):
        found.append(m.problem(_options_path(path), message))
    return found


# -- gen's additions --------------------------------------------------------------------------------
def _main_container(b: _Building, spec: dict[str, Any], name: str) -> dict[str, Any]:
    """The Flink container, moved first: the one of the platform's name, else the one container
    without an image (the platform brings Flink's image; a sidecar names its own), else a new one.
    The user's Flink container gets the platform's name, so one layer file serves every target."""
    containers = [c for c in spec.get("containers", []) if isinstance(c, dict)]
    main = next((c for c in containers if c.get("name") == name), None)
    if main is None:
        imageless = [c for c in containers if not c.get("image")]
        for extra in imageless[1:]:
            b.problems.append(
                model.of(b.eff).problem(
                    b.where(("spec", "containers", containers.index(extra))),
                    f"container {extra.get('name')!r} has no image, and neither has {imageless[0].get('name')!r}: "
                    "only the Flink container takes the platform's image",
                    "give the sidecar its image",
                )
            )
        main = imageless[0] if imageless else {}
        main["name"] = name
    spec["containers"] = [main, *(c for c in containers if c is not main)]
    return main


def _merge_additions(b: _Building, settings: PodSettings, size: ContainerSize | None) -> None:
    eff, component, template = b.eff, b.component, b.template
    labels = template["metadata"].setdefault("labels", {})
    for key, value in pod_labels(eff, component).items():
        b.set(("metadata", "labels"), labels, key, value, "gen's pod labels select the pods; use another label key")
    spec = template["spec"]
    b.set(
        ("spec",),
        spec,
        "serviceAccountName",
        service_account(eff, component),
        "set it in platform.kubernetes.serviceAccounts",
    )
    automount = needs_kubernetes_api(eff) or component in settings.needs_api
    b.set(
        ("spec",),
        spec,
        "automountServiceAccountToken",
        automount,
        "gen mounts the token only where the pod calls the Kubernetes API",
    )
    name = settings.container_names[component]
    main = _main_container(b, spec, name)
    index = spec["containers"].index(main)
    at: tuple[str | int, ...] = ("spec", "containers", index)
    port = {"name": METRICS_PORT_NAME, "containerPort": metrics_port(eff), "protocol": "TCP"}
    ports = main.setdefault("ports", [])
    clash = [p for p in ports if p.get("name") == METRICS_PORT_NAME or p.get("containerPort") == port["containerPort"]]
    for p in clash:
        if {k: p.get(k, "TCP" if k == "protocol" else None) for k in port} != port:
            b.conflict(
                (*at, "ports", ports.index(p)),
                "a container port",
                p,
                port,
                "the metrics port is metrics.reporter.prom.port",
            )
    if not clash:
        ports.append(port)
    context = main.setdefault("securityContext", {})
    for key, value in container_security_context().items():
        if key == "capabilities":
            caps = context.setdefault("capabilities", {})
            if "ALL" not in caps.get("drop", []):
                caps["drop"] = [*caps.get("drop", []), "ALL"]
            continue
        b.set((*at, "securityContext"), context, key, value, "gen's containers never run as root or escalate")
    if size is not None:
        wanted = size.resources()
        if "resources" in main and main["resources"] != wanted:
            b.conflict(
                (*at, "resources"),
                "the Flink container's resources",
                main["resources"],
                wanted,
                "size the container with spec.template.spec.resources (cpu, memory, ephemeralStorage) and the "
                "kubernetes.<component>.<cpu|memory>.limit-factor options",
            )
        main["resources"] = wanted


def duplicate_problems(
    eff: Effective, component: str, template: Mapping[str, Any], from_options: bool
) -> list[Problem]:
    """Two volumes, containers, mounts or variables of one name: Kubernetes refuses the pod."""
    b = _Building(eff, component, {}, from_options, [])
    found: list[Problem] = []
    spec = template.get("spec", {})

    def check(items: Any, path: tuple[str | int, ...], key: str, what: str) -> None:
        seen: set[Any] = set()
        for index, item in enumerate(items or []):
            value = item.get(key) if isinstance(item, Mapping) else None
            if value in seen:
                found.append(
                    model.of(eff).problem(
                        b.where((*path, index)), f"two {what} {value!r}", "gen adds some of its own; rename yours"
                    )
                )
            seen.add(value)

    check(spec.get("volumes"), ("spec", "volumes"), "name", "volumes named")
    for field in ("containers", "initContainers"):
        check(spec.get(field), ("spec", field), "name", "containers named")
        for index, container in enumerate(spec.get(field) or []):
            check(container.get("env"), ("spec", field, index, "env"), "name", "environment variables named")
            check(
                container.get("volumeMounts"), ("spec", field, index, "volumeMounts"), "mountPath", "mounts at the path"
            )
    return found


def pod_template(eff: Effective, component: str, settings: PodSettings) -> dict[str, Any]:
    """A Kubernetes PodTemplateSpec for one component of one deployment: the user's, with gen's
    settings merged in. Raises :class:`InputError` (located) on an invalid or contradicting template."""
    problems: list[Problem] = []
    template, from_options = user_template(eff, component, settings, problems)
    if model.of(eff).pods:
        problems.extend(options_problems(eff))
    size = container_size(eff, component, problems) if settings.container_resources else None
    building = _Building(eff, component, template, from_options, problems)
    if not from_options and model.of(eff).pods:
        main = _main_container(building, template["spec"], settings.container_names[component])
        options_conflicts(building, template["spec"]["containers"].index(main))
    _merge_additions(building, settings, size)
    problems.extend(duplicate_problems(eff, component, template, from_options))
    if not template["metadata"].get("annotations"):
        template["metadata"].pop("annotations", None)
    if problems:
        raise InputError(_unique(problems))
    return template


def check_additions(eff: Effective, component: str, template: Mapping[str, Any]) -> None:
    """After a target added more to a pod (TLS stores): still no two volumes, mounts or variables of one name."""
    found = duplicate_problems(eff, component, template, component not in model.of(eff).pod_templates)
    if found:
        raise InputError(_unique(found))


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))

"""What the readiness rules can check on Ververica Platform where it differs from Flink's own options,
and the notes they attach where VVP does not document the property a rule grades.

Standby JobManagers: no public VVP source documents a way to run more than one JobManager (the
Deployment API has no replica field; ``kubernetes.jobmanager.replicas`` is Flink's option for its
native Kubernetes mode, and VVP creates the Kubernetes objects itself). What VVP documents is Flink's
Kubernetes HA: "HA services based on Kubernetes do not require multiple Job Managers because
Kubernetes itself will restart the Job Manager pod as required"
(https://docs.ververica.com/vvp/user-guide/application-operations/deployments/kubernetes-high-availability-service).

Container settings: VVP documents that "Resource limits (CPU and memory) defined in pod templates
override the corresponding settings"
(https://docs.ververica.com/docs/vvp/user-guide/application-operations/deployments/k8s-resources), and
merges a pod template's containers with its own by name; the names of VVP's containers are not
documented (docs/vvp.md, "Pod templates, container limits and container names").

TLS: the ``flink.security.ssl.enabled`` annotation is documented for VVP 1.3 and the 2.x Deployment
Templates (https://docs.ververica.com/v1.3/application_manager/auth/flink_ssl.html); no VVP 3 page
documents it.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator import targets
from generator.config.yamlload import Path_
from generator.model import HA_STORAGE_DIR, HA_TYPE, keys
from generator.policy.facts import conf_path
from generator.policy.model import Note, Subject, Violation
from generator.render.pods import VVP_PODS
from generator.targets.vvp import Vvp, versions
from generator.targets.vvp.spec import NOT_PASSED_ON

KUBERNETES_HA_DOCS = (
    "https://docs.ververica.com/vvp/user-guide/application-operations/deployments/kubernetes-high-availability-service"
)
K8S_RESOURCES_DOCS = "https://docs.ververica.com/docs/vvp/user-guide/application-operations/deployments/k8s-resources"
CONTAINER_NAMES_DOCS = "docs/vvp.md#pod-templates-container-limits-and-container-names"
TLS_ANNOTATION_DOCS = "https://docs.ververica.com/v1.3/application_manager/auth/flink_ssl.html"

NOT_CONTROLLABLE = "the JobManager replica count is not controllable on Ververica Platform"
ONE_JOBMANAGER = Note(
    "VVP runs one JobManager per deployment; replica count is not controllable on VVP, so HA here means "
    "Kubernetes HA with a storage directory: the JobManager is restarted and recovers",
    KUBERNETES_HA_DOCS,
)


def on_vvp(subject: Subject) -> bool:
    return targets.get(subject.target).vvp


def platform_version(subject: Subject) -> tuple[int, int, int] | None:
    """The Ververica Platform version the subject is rendered for (None: not a VVP target)."""
    platform = targets.get(subject.target)
    if not isinstance(platform, Vvp):
        return None
    return versions.of(subject.model, platform.default_version)


def _container_names() -> str:
    return " and ".join(sorted(set(VVP_PODS.container_names.values())))


def container_note(what: str) -> Note:
    """On VVP, ``what`` (a per-container setting gen writes into the pod templates) reaches the Flink
    containers only if VVP's containers carry the names gen uses, which VVP does not document."""
    return Note(
        f"on VVP, {what} is written on the Flink container of the pod templates ({_container_names()}); VVP "
        "merges a template container with its own by name and does not document its container names, so "
        "it takes effect only if they match (compare the running pod's container names once; "
        f"{CONTAINER_NAMES_DOCS})",
        K8S_RESOURCES_DOCS,
    )


def tls_annotation_note(subject: Subject) -> Iterator[Note]:
    """SEC-001 passes on VVP through the TLS annotation: say so where no page of that version documents it."""
    version = platform_version(subject)
    if version is not None and version[0] >= 3:
        yield Note(
            f"TLS is provisioned by the flink.security.ssl.enabled annotation, documented for VVP 1.3 and 2.x; no "
            f"VVP {versions.text(version)} page documents it: confirm TLS on a running deployment, or configure "
            "security.ssl.internal.enabled and security.ssl.rest.enabled with your own keystores",
            TLS_ANNOTATION_DOCS,
        )


def not_rendered(subject: Subject, path: Path_) -> bool:
    """A Flink option the VVP targets do not write (``kubernetes.jobmanager.replicas``, the limit
    factors): its profile bounds say nothing about what runs there."""
    flink = keys.FLINK_CONF
    return (
        targets.get(subject.target).vvp
        and len(path) == len(flink) + 1
        and path[: len(flink)] == flink
        and path[-1] in NOT_PASSED_ON
    )


def vvp_jobmanager_recovery(subject: Subject) -> Iterator[Violation | Note]:
    """HA-002 on Ververica Platform: Kubernetes HA configured, with its storage directory; the note says
    what the check rests on, passed or failed."""
    yield ONE_JOBMANAGER
    ha = subject.model.ha
    if not ha.enabled or not ha.kubernetes:
        yield Violation(
            f"no Kubernetes HA: {NOT_CONTROLLABLE}, so a JobManager failure is recovered only by Kubernetes HA",
            conf_path(HA_TYPE),
            subject.conf.get(HA_TYPE),
            f"set {HA_TYPE}: kubernetes and {HA_STORAGE_DIR} (Kubernetes then restarts the JobManager with its state)",
        )
    elif not ha.storage_dir:
        yield Violation(
            f"Kubernetes HA without {HA_STORAGE_DIR}: {NOT_CONTROLLABLE}, and the restarted JobManager has "
            "nothing to recover from",
            conf_path(HA_STORAGE_DIR),
            None,
            f"set {HA_STORAGE_DIR} on the object store",
        )

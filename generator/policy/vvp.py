"""What the readiness rules can check on Ververica Platform where it differs from Flink's own options.

Standby JobManagers: no public VVP source documents a way to run more than one JobManager (the
Deployment API has no replica field; ``kubernetes.jobmanager.replicas`` is Flink's option for its
native Kubernetes mode, and VVP creates the Kubernetes objects itself). What VVP documents is Flink's
Kubernetes HA: "HA services based on Kubernetes do not require multiple Job Managers because
Kubernetes itself will restart the Job Manager pod as required"
(https://docs.ververica.com/vvp/user-guide/application-operations/deployments/kubernetes-high-availability-service).
"""

from __future__ import annotations

from collections.abc import Iterator

from generator import targets
from generator.config.yamlload import Path_
from generator.model import HA_STORAGE_DIR, HA_TYPE, JOBMANAGER_REPLICAS, keys
from generator.policy.facts import conf_path
from generator.policy.model import Subject, Violation
from generator.targets.vvp.spec import NOT_PASSED_ON

NOT_CONTROLLABLE = (
    "the JobManager replica count is not controllable on Ververica Platform (no documented mechanism; "
    f"{JOBMANAGER_REPLICAS} is not documented to take effect there), so recovery rests on Kubernetes HA"
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


def vvp_jobmanager_recovery(subject: Subject) -> Iterator[Violation]:
    """HA-002 on Ververica Platform: Kubernetes HA configured, with its storage directory."""
    ha = subject.model.ha
    if not ha.enabled or not ha.kubernetes:
        yield Violation(
            f"no standby JobManager and no Kubernetes HA: {NOT_CONTROLLABLE}",
            conf_path(HA_TYPE),
            subject.conf.get(HA_TYPE),
            f"set {HA_TYPE}: kubernetes and {HA_STORAGE_DIR} (Kubernetes then restarts the JobManager with its state)",
        )
    elif not ha.storage_dir:
        yield Violation(
            f"Kubernetes HA without {HA_STORAGE_DIR}: {NOT_CONTROLLABLE}",
            conf_path(HA_STORAGE_DIR),
            None,
            f"set {HA_STORAGE_DIR} on the object store",
        )

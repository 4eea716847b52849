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

from generator.model import HA_STORAGE_DIR, HA_TYPE, JOBMANAGER_REPLICAS
from generator.policy.facts import conf_path
from generator.policy.model import Subject, Violation

NOT_CONTROLLABLE = (
    "the JobManager replica count is not controllable on Ververica Platform (no documented mechanism; "
    f"{JOBMANAGER_REPLICAS} is not documented to take effect there), so recovery rests on Kubernetes HA"
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

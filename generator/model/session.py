"""Session mode, one rule for every target: what a job on a shared session cluster may set, and
whether the cluster can run it.

A session cluster (VVP's SessionCluster, the operator's FlinkDeployment without ``job``) is sized
and configured once, from the namespace defaults; a job on it decides only job-level settings
(https://docs.ververica.com/vvp/user-guide/application-operations/deployments/flink-configuration:
cluster-level configuration, resources and pod templates belong to the session cluster). A
cluster-level setting written by the job's own file (or ``--set``) would have no effect: it is
refused at the line that wrote it. A job's parallelism is checked against the slots of the cluster
it runs on (TaskManagers x slots), not against its profile's sizing.
"""

from __future__ import annotations

from collections.abc import Iterable

from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.errors import Problem
from generator.model import Deployment, keys

IMAGE_FIELDS = ("flinkImageRegistry", "flinkImageRepository", "flinkImageTag")
#: Fields of spec.template.spec that configure the Flink cluster, not the job.
CLUSTER_FIELDS = ("numberOfTaskManagers", "resources", "logging", "kubernetes")
#: Flink options read when a cluster starts: in session mode they belong to the session cluster.
CLUSTER_OPTION_PREFIXES = (
    "high-availability",
    "kubernetes.",
    "jobmanager.",
    "taskmanager.",
    "metrics.",
    "rest.",
    "blob.",
    "security.",
    "akka.",
    "pekko.",
    "env.",
    "containerized.",
    "cluster.",
    "io.tmp.dirs",
    "queryable-state.",
    "web.",
    "resourcemanager.",
    "slot.",
    "heartbeat.",
    "s3.",
    "fs.",
)
_EXPLICIT_LAYERS = ("deployment ", "command line")


def is_cluster_option(key: str) -> bool:
    return key.startswith(CLUSTER_OPTION_PREFIXES)


def set_explicitly(eff: Effective, path: Path_) -> bool:
    """Whether the deployment's own file (or --set) set ``path`` or something below it."""
    n = len(path)
    chains = [chain for key, chain in eff.provenance.items() if key[:n] == path and chain]
    return any(chain[-1].layer.startswith(_EXPLICIT_LAYERS) for chain in chains)


def _explicit_origin_path(eff: Effective, path: Path_) -> Path_:
    """The deepest path below ``path`` that the deployment's own file (or --set) wrote: the problem
    is reported at that line, never at a line another layer wrote below the same map."""
    n = len(path)
    for key, chain in sorted(eff.provenance.items(), key=lambda item: len(item[0])):
        if key[:n] == path and chain and chain[-1].layer.startswith(_EXPLICIT_LAYERS):
            return key
    return path


def session_problems(m: Deployment, cluster_paths: Iterable[tuple[Path_, str]] = ()) -> list[Problem]:
    """In session mode the deployment's own file must not size or configure the cluster.
    ``cluster_paths``: a target's own cluster-level settings (path, what it is)."""
    if not m.session:
        return []
    eff = m.effective
    hint = "set it in the namespace defaults (the session cluster) or run this deployment in application mode"
    wanted: list[tuple[Path_, str]] = [
        *(
            ((*keys.TEMPLATE_SPEC, f), f"{f} configures the session cluster, not a session-mode deployment")
            for f in CLUSTER_FIELDS
        ),
        *(((*keys.ARTIFACT, f), "the session cluster's image runs every session-mode job") for f in IMAGE_FIELDS),
        *(
            ((*keys.FLINK_CONF, k), "a cluster-level Flink option has no effect on one job of a session cluster")
            for k in m.conf
            if is_cluster_option(k)
        ),
        *cluster_paths,
    ]
    found: list[Problem] = []
    for path, message in wanted:
        if set_explicitly(eff, path):
            found.append(m.problem(_explicit_origin_path(eff, path), message, hint))
    return found


def capacity_problems(cluster: Deployment, name: str, jobs: Iterable[Deployment]) -> list[Problem]:
    """Jobs on session cluster ``name`` whose parallelism needs more slots than the cluster has."""
    found: list[Problem] = []
    capacity = cluster.capacity
    for job in jobs:
        if job.session_cluster != name or job.parallelism is None or job.parallelism <= capacity:
            continue
        parallelism = (*keys.TEMPLATE_SPEC, "parallelism")
        # the line that decided: the job's own parallelism, else the line that put it on this cluster
        own = set_explicitly(job.effective, parallelism) or not set_explicitly(job.effective, keys.SESSION_CLUSTER)
        origin = job.origin(parallelism)
        found.append(
            job.problem(
                parallelism if own else keys.SESSION_CLUSTER,
                f"parallelism {job.parallelism}"
                + ("" if own or origin is None else f" (set at {origin.where()})")
                + f" needs {job.parallelism} slots, but session cluster '{name}' has "
                f"{cluster.task_managers} TaskManagers x {cluster.slots} slots = {capacity}",
                "lower the parallelism, or size the session cluster (numberOfTaskManagers, "
                "taskmanager.numberOfTaskSlots) in the namespace defaults",
            )
        )
    return found

"""Deployment fields only Ververica Platform has: refused on the Flink operator target where written.

An intent is never dropped when switching targets. These fields of VVP's Deployment
(https://docs.ververica.com/vvp/user-guide/application-operations/deployments/) have no option of
the same meaning in the Flink Kubernetes Operator
(https://nightlies.apache.org/flink/flink-kubernetes-operator-docs-release-1.13/docs/operations/configuration/):

- ``maxSavepointCreationAttempts`` and ``maxJobCreationAttempts`` bound how often VVP tries to take
  a savepoint or to start a job before the Deployment fails. The operator retries a failed
  reconciliation and, with ``kubernetes.operator.job.restart.failed``, restarts a failed job, with no
  count of attempts after which it gives up on the deployment; mapping the counts onto those would
  change what they mean.
- ``jobFailureExpirationTime`` is how long VVP keeps counting a job failure; the operator keeps no
  such count.
- ``logging.loggingProfile`` names a logging profile installed on the VVP platform; the operator
  takes the log configuration itself (``platform.flinkOperator.logConfiguration``) and logger levels
  (``spec.template.spec.logging.log4jLoggers``).
"""

from __future__ import annotations

from generator.config.resolve import Effective
from generator.config.yamlload import Path_
from generator.errors import Problem
from generator.model.keys import LOGGING, SPEC
from generator.targets.flink_operator.settings import problem_at

#: field -> why the operator has no equivalent
VVP_ONLY: dict[Path_, str] = {
    (*SPEC, "maxSavepointCreationAttempts"): "the operator has no limit on savepoint attempts after which a "
    "deployment fails",
    (*SPEC, "maxJobCreationAttempts"): "the operator has no limit on job start attempts after which a deployment "
    "fails (it retries the reconciliation)",
    (*SPEC, "jobFailureExpirationTime"): "the operator keeps no count of job failures that could expire",
    (*LOGGING, "loggingProfile"): "logging profiles are templates installed on Ververica Platform; set the log "
    "configuration with platform.flinkOperator.logConfiguration or logger levels with "
    "spec.template.spec.logging.log4jLoggers",
}


def _hint(eff: Effective, path: Path_) -> str:
    """Where the setting belongs: a file every namespace reads (the baseline, an environment) sets it
    for the operator's namespaces too, so in a mixed estate it moves to the VVP namespaces' files."""
    origin = eff.origin(path)
    if origin is not None and (origin.layer == "baseline" or origin.layer.startswith("environment ")):
        return (
            f"{origin.file} reaches every namespace: set it in the namespace files of the namespaces on "
            "targets vvp and vvp-operator instead, or leave it to Ververica Platform's Deployment Defaults"
        )
    return "remove it for this target (it applies to targets vvp and vvp-operator)"


def vvp_only_problems(eff: Effective) -> list[Problem]:
    """Each Ververica-Platform-only field the configuration sets, at the line that set it."""
    return [
        problem_at(
            eff,
            path,
            f"{path[-1]} is a Ververica Platform setting with no equivalent on the Flink operator: {why}",
            _hint(eff, path),
        )
        for path, why in VVP_ONLY.items()
        if eff.get(path) is not None
    ]

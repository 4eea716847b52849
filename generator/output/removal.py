"""What a render removes from the output folder, and which removals delete a job's state.

Under GitOps a file that leaves the output folder is an object deleted from the cluster. For most
files that is what the user meant (a deployment file was removed); for the document of a stateful
job it also deletes what the job would restart from: the VVP operator and the Flink operator
delete the job with its high-availability metadata, and a new job with the same name starts empty.
So a render that would remove such a file needs ``--allow-delete``; the previously written file in
the output folder tells whether it is one:

- a VVP ``Deployment`` (REST resource) or ``VvpDeployment`` whose ``upgradeStrategy.kind`` is
  ``STATEFUL``;
- a ``FlinkDeployment`` or ``FlinkSessionJob`` whose ``spec.job.upgradeMode`` is ``last-state`` or
  ``savepoint``.

A removed file gen cannot read back counts as stateful: it cannot be shown not to be one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.config.yamlload import SAFE_LOADER
from generator.errors import OutputError

# gen's own documents are far smaller; a larger file is not read to tell what it is
MAX_READ = 4 * 1024 * 1024
STATEFUL_UPGRADE_MODES = frozenset({"last-state", "savepoint"})


@dataclass(frozen=True)
class Removal:
    """A file a render removes; ``stateful`` says why removing it deletes a job's state ('' if not)."""

    path: str  # relative to the output folder, with '/'
    stateful: str = ""


def removals(out: Path, paths: Iterable[str]) -> list[Removal]:
    """The files at ``paths`` (relative to ``out``, about to be removed), each with its reason to
    count as a stateful job, read from the file as it is in the output folder."""
    return [Removal(path, stateful_reason(out / path)) for path in sorted(paths)]


def stateful_reason(path: Path) -> str:
    """Why the document in ``path`` is a stateful job ('' when it is not one)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_READ + 1)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"it cannot be read back ({exc.strerror}) to tell whether it is a stateful job"
    if len(raw) > MAX_READ:
        return "it is too large to be read back to tell whether it is a stateful job"
    try:
        docs = [d for d in yaml.load_all(raw, Loader=SAFE_LOADER) if d is not None]
    except (yaml.YAMLError, ValueError):
        return "it is not YAML gen can read back to tell whether it is a stateful job"
    return next((reason for doc in docs if (reason := _job_state(doc))), "")


def _job_state(doc: Any) -> str:
    if not isinstance(doc, dict):
        return ""
    kind, name = doc.get("kind"), _get(doc, "metadata", "name")
    api = str(doc.get("apiVersion", ""))
    if kind == "Deployment" and api == "v1":  # a VVP REST resource (Kubernetes has no v1 Deployment)
        strategy = _get(doc, "spec", "upgradeStrategy", "kind")
        return f"VVP Deployment '{name}' with upgradeStrategy {strategy}" if strategy == "STATEFUL" else ""
    if kind == "VvpDeployment":
        strategy = _get(doc, "spec", "deployment", "spec", "upgradeStrategy", "kind")
        return f"VvpDeployment '{name}' with upgradeStrategy {strategy}" if strategy == "STATEFUL" else ""
    if kind in ("FlinkDeployment", "FlinkSessionJob"):
        mode = _get(doc, "spec", "job", "upgradeMode")
        return f"{kind} '{name}' with upgradeMode {mode}" if mode in STATEFUL_UPGRADE_MODES else ""
    return ""


def _get(data: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


class StatefulRemoval(OutputError):
    """A render would remove the documents of stateful jobs without ``--allow-delete``."""

    def __init__(self, out: Path, stateful: list[Removal]) -> None:
        count = len(stateful)
        jobs = "a stateful job" if count == 1 else f"{count} stateful jobs"
        super().__init__(
            f"refusing to remove the {'file' if count == 1 else 'files'} of {jobs} from {out}: under GitOps a "
            "removed file deletes the job, and with it its high-availability metadata and the state it would "
            "restart from; nothing was written",
            hint="pass --allow-delete if the jobs are meant to go; if a deployment file was renamed, moved or "
            "deleted by mistake, restore it",
        )
        self.out = out
        self.stateful = stateful

    def lines(self) -> list[str]:
        return [f"{printable(str(self.out / r.path))}: {r.stateful}" for r in self.stateful] + super().lines()


def printable(text: str) -> str:
    """A path on one line: control characters in a file name are written as escapes."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def refuse_stateful(out: Path, removed: list[Removal]) -> None:
    """Raise :class:`StatefulRemoval` if any of ``removed`` is a stateful job's document."""
    stateful = [r for r in removed if r.stateful]
    if stateful:
        raise StatefulRemoval(out, stateful)

"""The single writer: YAML formatting, the file index, the atomic swap and ``--check``.

Every rendered file goes through here. Nothing touches the output folder until every document
of the run has been rendered and validated; then a complete new tree is built beside the old one
and exchanged with it in one atomic step, so an interrupted run leaves the previous output as it
was. An index (``gen-index.json``) records which files gen wrote, with content hashes and owner.

- :mod:`generator.output.yamlout`: the deterministic YAML of every document (:func:`dump_yaml`).
- :mod:`generator.output.index`: the index and the plan of what a run changes (:func:`plan`,
  :class:`OutFile`, :class:`Owner`, :class:`Scope`, :class:`Plan`).
- :mod:`generator.output.removal`: what a run removes, and which removals delete a stateful job
  (:func:`removals`, :func:`refuse_stateful`).
- :mod:`generator.output.swap`: the atomic write of the output folder (:func:`write`, which a
  helper process may begin while the run renders: :mod:`generator.output.prebuild`, :mod:`generator.output.mirror`)
  and the lock that serialises runs on it (:func:`locked`).

Callers use the names of this package (``output.plan``, ``output.write``, ``output.locked``), looked
up when called, so a test that replaces one of them here replaces what the CLI runs.
"""

from generator.output.index import (
    INDEX,
    KEEP_UNOWNED,
    ContentGone,
    FileDigest,
    OutFile,
    Owner,
    Plan,
    Scope,
    contents_ready,
    plan,
    read_index,
    to_create,
)
from generator.output.prebuild import Prepared, prepare
from generator.output.removal import Removal, StatefulRemoval, printable, refuse_stateful, removals
from generator.output.swap import locked, recover, write
from generator.output.yamlout import dump_yaml, dump_yaml_pyyaml

__all__ = [
    "INDEX",
    "KEEP_UNOWNED",
    "ContentGone",
    "FileDigest",
    "OutFile",
    "Owner",
    "Plan",
    "Prepared",
    "Removal",
    "Scope",
    "StatefulRemoval",
    "contents_ready",
    "dump_yaml",
    "dump_yaml_pyyaml",
    "locked",
    "plan",
    "prepare",
    "printable",
    "read_index",
    "recover",
    "refuse_stateful",
    "removals",
    "to_create",
    "write",
]

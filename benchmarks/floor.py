"""The floor: a process that only serialises documents with PyYAML's C dumper (libyaml).

    python -m benchmarks.floor DOCS.pickle

``DOCS.pickle`` holds a list of documents (plain dicts). Nothing is rendered, merged, validated or
written: this is what emitting that many documents costs at least, start-up included.
"""

from __future__ import annotations

import pickle
import sys

import yaml


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    with open(args[0], "rb") as handle:
        docs = pickle.load(handle)
    size = 0
    for doc in docs:
        size += len(yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=True, default_flow_style=False))
    print(f"{len(docs)} documents, {size} characters")


if __name__ == "__main__":
    main()

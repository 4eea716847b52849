"""The files' share: a process that only creates the files gen wrote, in an empty folder.

    python -m benchmarks.writes FILES.pickle OUT

``FILES.pickle`` holds a list of (relative path, text): the files of a render, read beforehand. They
are written as gen writes a new output tree: folders made as needed, each file created with gen's own
``_create``, then flushed as gen flushes the tree before the swap (``syncfs`` of the file system). Nothing is
serialised, rendered or validated: with :mod:`benchmarks.floor`, this is what producing that output
costs at least, and on a disk where creating a file is expensive it is much of a cold render's
kernel time.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

from generator.output.swap import _create, _flush


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    with open(args[0], "rb") as handle:
        files: list[tuple[str, str]] = pickle.load(handle)
    out = args[1]
    folders: set[str] = set()
    for path, text in files:
        target = f"{out}/{path}"
        folder = target.rpartition("/")[0]
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        _create(target, text)
    _flush(Path(out))
    print(f"{len(files)} files")


if __name__ == "__main__":
    main()

"""The new output tree, begun while the run renders.

:func:`prepare` starts a helper process, on another CPU, that checks the previous tree and hard-links
every regular file of it into the new one (:mod:`generator.output.mirror`, run as a script: the
standard library only, so it starts in milliseconds). :func:`generator.output.swap.write` then keeps
the links of the files the plan found unchanged (the very files it compared, by their inodes),
removes the others and writes what changed. Nothing of the previous tree is touched before the
swap, and a helper that fails only leaves the work to the write. After the swap, the same helper,
which waited meanwhile, removes the previous tree (:meth:`Prepared.remove`). Building the tree (the
check and 4,200 links) was a fifth of a render after one deployment changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from generator.output import mirror, swap
from generator.output.index import INDEX


class Prepared:
    """The previous tree being checked and hard-linked into the new one by a helper process while
    the run renders (:func:`prepare`); :func:`swap.write` completes the new tree from what it linked."""

    def __init__(self, out: Path, tmp: Path, process: subprocess.Popen[bytes]) -> None:
        self.out, self.tmp, self.process = out, tmp, process
        self.done = False

    def finish(self, shown: Path) -> tuple[dict[str, int], list[str]] | None:
        """Wait for the helper: the files it linked into the new tree (path: the inode linked) and
        the other files of the previous tree it named for :data:`KEEP_UNOWNED`, or ``None`` when it
        did not complete (what it made is removed, and the caller builds the tree itself). A previous
        tree that cannot be replaced is refused here, as :func:`swap.check_replaceable` refuses it."""
        self.done = True
        report: Any = None
        with contextlib.suppress(OSError, ValueError):
            assert self.process.stdout is not None
            report = json.loads(self.process.stdout.readline())
        if isinstance(report, dict):
            linked, unowned = report.get("linked"), report.get("unowned")
            if isinstance(linked, dict) and isinstance(unowned, list):
                return linked, unowned  # the helper waits for remove()
        self._stop()
        self._remove()
        refused = report.get("refused") if isinstance(report, dict) else None
        if isinstance(refused, list) and len(refused) == 3 and refused[1] in mirror.KINDS:
            raise swap.refused(self.out, shown, mirror.Refusal(*(str(part) for part in refused)))
        return None

    def remove(self, tree: Path) -> subprocess.Popen[bytes] | None:
        """Hand the helper, which linked the new tree and waits, the previous tree to remove now that
        the two are swapped (it has started already: the removal begins at once); the helper to wait
        for (exit status 0: all removed), or ``None`` if it is gone."""
        stdin = self.process.stdin
        if stdin is None or self.process.poll() is not None:
            return None
        try:
            stdin.write(os.fsencode(tree))
            stdin.close()
        except OSError:
            return None
        return self.process

    def cancel(self) -> None:
        """Stop the helper; unless :meth:`finish` took the tree it made, remove that (the run writes
        nothing, or failed before it did)."""
        self._stop()
        if not self.done:
            self.done = True
            self._remove()

    def _stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.process.wait()

    def _remove(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)  # what is left, the next run's recover() names


def prepare(out: Path, lock: int | None = None) -> Prepared | None:
    """Start checking the previous tree in ``out`` and hard-linking its files into the new one, in a
    helper process (:mod:`generator.output.mirror`, run as a script: the standard library only) on
    another CPU while this one renders. Only on Linux, where ``out`` holds a tree gen wrote (``None``
    otherwise: :func:`swap.write` then does it all). Call it with the lock of :func:`swap.locked` held;
    ``lock``: its descriptor, passed to the helper, so that a run killed meanwhile keeps the next
    one waiting until the helper is done (its :func:`swap.recover` then removes what the helper made).
    Either :func:`swap.write` takes it or :meth:`Prepared.cancel` must be called."""
    resolved = out.resolve()
    if not sys.platform.startswith("linux") or not sys.executable or not (resolved / INDEX).is_file():
        return None
    tmp = swap.new_tree(resolved)
    if os.path.lexists(tmp):
        return None
    process = mirror.helper(
        os.fspath(resolved), os.fspath(tmp), stdout=subprocess.PIPE, stdin=subprocess.PIPE, lock=lock
    )
    return Prepared(resolved, tmp, process) if process is not None else None


__all__ = ["Prepared", "prepare"]

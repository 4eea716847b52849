"""A failed run changes nothing: whenever the swap of the output folder cannot complete, the
folder is byte for byte the previous tree, no temporary folder is left beside it, gen exits 2 and
the message names the folder.

Tests run as root in CI, where permissions are not enforced: the failures are simulated by failing
the call the swap makes at its call site (``generator.output.swap``: ``_exchange``, ``_rename``,
``_flush``, ``_remove_tree``; ``generator.output.mirror``, which checks the previous tree:
``os.access``, ``immutable``, ``mount_points``). Where root can build
the real situation (an immutable file, a read-only bind mount in a private mount namespace) it is
tested too; the permission tests run only as another user.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from generator import output
from generator.output import mirror, swap
from tests.conftest import edit, run_cli, tree_digest

SELECT = ["-e", "prod"]


@pytest.fixture(autouse=True)
def one_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The failures are simulated in this process. The helper processes that begin the new tree while a
    run renders (``output.prepare``, running ``generator.output.mirror``) and remove the previous one
    after the swap (``swap._start_removal``) would not see them, so they are left out (their work is
    done here then), except in the tests of real situations that take ``helper``."""
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    if not params.get("helper", False):
        monkeypatch.setattr(output, "prepare", lambda *args: None)
        monkeypatch.setattr(swap, "_start_removal", lambda tree, lock: None)


@pytest.fixture
def before_and_after(tmp_path: Path, config: Path) -> Iterator[tuple[Path, dict[str, str], dict[str, str]]]:
    """An output folder rendered from the example, the configuration edited so that the next render
    changes files, and the digests of the old tree and of the new one."""
    out = tmp_path / "out"
    assert run_cli("render", *SELECT, "-c", str(config), "-o", str(out)).code == 0
    old = tree_digest(out)
    edit(config / "profiles/stateful-heavy.yaml", "          memory: 16g\n", "          memory: 24g\n")
    expected = tmp_path / "expected"
    assert run_cli("render", *SELECT, "-c", str(config), "-o", str(expected)).code == 0
    new = tree_digest(expected)
    shutil.rmtree(expected)
    assert old != new
    yield out, old, new


def _render(config: Path, out: Path) -> tuple[int, str]:
    result = run_cli("render", *SELECT, "-c", str(config), "-o", str(out))
    return result.code, result.stderr


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.glob(f".{out.name}.gen-*"))


def assert_nothing_changed(out: Path, old: dict[str, str], code: int, stderr: str, *fragments: str) -> None:
    assert code == 2, stderr
    lines = stderr.splitlines()
    assert lines and lines[-1].startswith("error: ") and "Traceback" not in stderr, stderr
    assert str(out) in lines[-1], stderr  # the message names the folder
    for fragment in fragments:
        assert fragment in lines[-1], stderr
    assert tree_digest(out) == old
    assert _leftovers(out) == []


def _os_error(err: int, filename: object = None) -> OSError:
    return OSError(err, os.strerror(err), None if filename is None else str(filename))


def _writing(path: object, mode: int, folder: Path) -> bool:
    """Whether an access check asks for write permission on ``folder``."""
    return Path(os.fspath(path)) == folder and bool(mode & os.W_OK)  # type: ignore[arg-type]


# -- refused before anything is written: the previous tree could not be removed after the swap ------
def test_a_read_only_folder_inside_out(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, old, _new = before_and_after
    read_only = out / "prod/analytics"
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: not _writing(p, mode, read_only) and real(p, mode, **kw))
    code, stderr = _render(config, out)
    assert_nothing_changed(
        out, old, code, stderr, f"cannot replace {out}: {read_only} is read-only", "nothing was changed"
    )


def test_a_read_only_output_folder(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, old, _new = before_and_after
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: not _writing(p, mode, out) and real(p, mode, **kw))
    code, stderr = _render(config, out)
    assert_nothing_changed(out, old, code, stderr, f"cannot replace {out}: {out} is read-only")


@pytest.mark.parametrize("which", ["prod/analytics/kustomization.yaml", "prod/helm", "gen-index.json"])
def test_an_immutable_file_or_folder_inside_out(
    which: str,
    before_and_after: tuple[Path, dict[str, str], dict[str, str]],
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, old, _new = before_and_after
    immutable = out / which
    real = mirror.immutable
    monkeypatch.setattr(mirror, "immutable", lambda p, info: Path(p) == immutable or real(p, info))
    real_link = os.link

    def link(src: str, dst: str) -> None:  # as Linux refuses to link an immutable file
        if Path(src) == immutable:
            raise PermissionError(errno.EPERM, "Operation not permitted", src)
        real_link(src, dst)

    monkeypatch.setattr(os, "link", link)
    code, stderr = _render(config, out)
    assert_nothing_changed(out, old, code, stderr, f"{immutable} is ", "immutable")


@pytest.mark.parametrize("where", ["", "prod/analytics"], ids=["out-itself", "inside-out"])
def test_a_mount_point(
    where: str,
    before_and_after: tuple[Path, dict[str, str], dict[str, str]],
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, old, _new = before_and_after
    point = out / where if where else out
    monkeypatch.setattr(mirror, "mount_points", lambda folder: [str(point)])
    code, stderr = _render(config, out)
    assert_nothing_changed(out, old, code, stderr, f"{point} is a mount point")


def test_a_folder_inside_out_that_cannot_be_read(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, old, _new = before_and_after
    unreadable = out / "prod/analytics"
    real = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(os.fspath(path)) == unreadable:  # type: ignore[arg-type]
            raise _os_error(errno.EACCES, unreadable)
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    code, stderr = _render(config, out)
    monkeypatch.undo()  # tree_digest lists folders too
    assert_nothing_changed(out, old, code, stderr, f"cannot read {unreadable}", "Permission denied")


def test_no_room_beside_out_for_the_new_tree(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, old, _new = before_and_after
    real = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if self.name.startswith(f".{out.name}.gen-tmp-"):
            raise _os_error(errno.EROFS, self)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", mkdir)
    code, stderr = _render(config, out)
    assert_nothing_changed(out, old, code, stderr, f"cannot write the new output beside {out}", "Read-only file system")


# -- failures during the swap ------------------------------------------------------------------------
@pytest.mark.parametrize("err", [errno.EBUSY, errno.EXDEV, errno.EPERM])
def test_the_exchange_fails(
    err: int,
    before_and_after: tuple[Path, dict[str, str], dict[str, str]],
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, old, _new = before_and_after

    def exchange(a: Path, b: Path) -> bool:
        raise _os_error(err, a)

    monkeypatch.setattr(swap, "_exchange", exchange)
    code, stderr = _render(config, out)
    assert_nothing_changed(out, old, code, stderr, f"could not swap the new output into {out}", os.strerror(err))


def _failing_flush(real: Callable[..., None]) -> Callable[..., None]:
    def flush(folder: Path, *, metadata_only: bool = False) -> None:
        if metadata_only:  # the fsync that makes the swap itself durable
            raise _os_error(errno.EIO)
        real(folder, metadata_only=metadata_only)

    return flush


def test_making_the_swap_durable_fails_and_it_is_swapped_back(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, old, _new = before_and_after
    monkeypatch.setattr(swap, "_flush", _failing_flush(swap._flush))
    code, stderr = _render(config, out)
    assert_nothing_changed(out, old, code, stderr, f"could not make the swap of {out} durable", "Input/output error")


def _renames_failing_at(n: int, err: int = errno.EACCES) -> tuple[Callable[[Path, Path], None], list[str]]:
    calls: list[str] = []

    def rename(src: Path, dst: Path) -> None:
        calls.append(f"{Path(src).name} -> {Path(dst).name}")
        if len(calls) == n:
            raise _os_error(err, src)
        os.rename(src, dst)

    return rename, calls


@pytest.mark.parametrize(
    ("failing", "expected"),
    [
        (1, ["out -> .out.gen-old"]),
        (2, ["out -> .out.gen-old", ".out.gen-tmp-{pid} -> out", ".out.gen-old -> out"]),
    ],
    ids=["moving-the-previous-aside", "moving-the-new-in"],
)
def test_without_renameat2_a_failed_rename_puts_the_previous_tree_back(
    failing: int,
    expected: list[str],
    before_and_after: tuple[Path, dict[str, str], dict[str, str]],
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, old, _new = before_and_after
    rename, calls = _renames_failing_at(failing)
    monkeypatch.setattr(swap, "_exchange", lambda a, b: False)  # a kernel or file system without it
    monkeypatch.setattr(swap, "_rename", rename)
    code, stderr = _render(config, out)
    assert_nothing_changed(out, old, code, stderr, "Permission denied")
    assert calls == [c.format(pid=os.getpid()) for c in expected]


def test_without_renameat2_a_failed_fsync_puts_the_previous_tree_back(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, old, _new = before_and_after
    rename, calls = _renames_failing_at(0)
    monkeypatch.setattr(swap, "_exchange", lambda a, b: False)
    monkeypatch.setattr(swap, "_rename", rename)
    monkeypatch.setattr(swap, "_flush", _failing_flush(swap._flush))
    code, stderr = _render(config, out)
    assert_nothing_changed(out, old, code, stderr, "durable")
    tmp = f".out.gen-tmp-{os.getpid()}"
    assert calls == ["out -> .out.gen-old", f"{tmp} -> out", f"out -> {tmp}", ".out.gen-old -> out"]


@pytest.mark.parametrize("stage", ["rename", "flush"])
def test_a_first_render_that_fails_leaves_no_output_folder(
    stage: str, tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    if stage == "rename":
        monkeypatch.setattr(swap, "_rename", _renames_failing_at(1, errno.ENOSPC)[0])
    else:
        monkeypatch.setattr(swap, "_flush", _failing_flush(swap._flush))
    code, stderr = _render(config, out)
    assert code == 2 and str(out) in stderr.splitlines()[-1], stderr
    assert not out.exists() and _leftovers(out) == []


def test_the_cleanup_failing_too_names_the_temporary_folder(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last resort: gen cannot even remove the tree it built. The previous output is intact
    and the message says which folder to remove."""
    out, old, _new = before_and_after

    def exchange(a: Path, b: Path) -> bool:
        raise _os_error(errno.EIO, a)

    def rmtree(path: Path, *args: object, **kwargs: object) -> None:
        raise _os_error(errno.EROFS, path)

    monkeypatch.setattr(swap, "_exchange", exchange)
    monkeypatch.setattr(swap.shutil, "rmtree", rmtree)
    code, stderr = _render(config, out)
    monkeypatch.undo()
    tmp = out.parent / f".out.gen-tmp-{os.getpid()}"
    assert code == 2 and f"the temporary folder {tmp} could not be removed" in stderr, stderr
    assert tree_digest(out) == old
    shutil.rmtree(tmp)


# -- after the swap: the previous tree cannot be removed -------------------------------------------
def test_a_previous_tree_that_cannot_be_removed_is_named_and_removed_by_the_next_run(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the checks before the swap cannot foresee (an I/O error while removing): the new
    output is complete in place, the rest of the previous one is named, and gen exits 2 so that
    nothing is committed until the next run has removed it."""
    out, _old, new = before_and_after
    real = swap._remove_tree

    def remove(path: Path) -> None:
        if path.name.startswith(".out.gen-tmp-"):
            raise _os_error(errno.EIO, path / "prod")
        real(path)

    monkeypatch.setattr(swap, "_remove_tree", remove)
    code, stderr = _render(config, out)
    assert code == 2
    assert f"error: {out} holds the new output, but the previous one could not be removed completely" in stderr
    assert tree_digest(out) == new
    monkeypatch.undo()
    code, stderr = _render(config, out)
    assert code == 0, stderr
    assert tree_digest(out) == new and _leftovers(out) == []


def test_the_previous_tree_is_removed_by_a_helper_and_what_it_leaves_here(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the swap a helper process removes the previous tree while the run stores its cache entries;
    a helper that fails leaves the removal to the run, which names what it cannot remove."""
    out, _old, new = before_and_after
    monkeypatch.undo()  # the real helper
    removed_here: list[str] = []
    real = swap._remove_tree

    def remove(path: Path) -> None:
        if path.name.startswith(".out.gen-"):
            removed_here.append(path.name)
            raise _os_error(errno.EIO, path / "prod")
        real(path)

    monkeypatch.setattr(swap, "_remove_tree", remove)
    monkeypatch.setattr(output, "prepare", lambda *args: None)
    code, stderr = _render(config, out)
    assert code == 0, stderr
    assert removed_here == [] and _leftovers(out) == []  # the helper removed it all
    assert tree_digest(out) == new

    def failing(tree: Path, lock: int | None) -> subprocess.Popen[bytes]:  # a helper that removes nothing and fails
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])

    monkeypatch.setattr(swap, "_start_removal", failing)
    edit(config / "profiles/stateful-heavy.yaml", "          memory: 24g\n", "          memory: 20g\n")
    code, stderr = _render(config, out)
    assert code == 2 and len(removed_here) == 1, stderr
    assert f"error: {out} holds the new output, but the previous one could not be removed completely" in stderr
    monkeypatch.setattr(swap, "_remove_tree", real)
    code, stderr = _render(config, out)
    assert code == 0 and _leftovers(out) == [], stderr


def test_the_removal_helper_exits_1_when_it_leaves_anything(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "a").mkdir(parents=True)
    (tree / "a" / "f").write_text("x")
    command = [sys.executable, "-I", "-S", mirror.__file__, "--remove"]
    assert subprocess.run([*command, str(tree)]).returncode == 0
    assert not tree.exists()
    assert subprocess.run([*command, str(tmp_path / "missing")]).returncode == 1


def test_a_leftover_of_an_earlier_run_that_cannot_be_removed_stops_the_render(
    before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, old, _new = before_and_after
    leftover = out.parent / ".out.gen-tmp-1"
    (leftover / "prod").mkdir(parents=True)

    def remove(path: Path) -> None:
        raise _os_error(errno.EACCES, path / "prod")

    monkeypatch.setattr(swap, "_remove_tree", remove)
    code, stderr = _render(config, out)
    assert code == 2 and f"cannot remove {leftover}, which an earlier gen run on {out} left behind" in stderr
    assert tree_digest(out) == old
    monkeypatch.undo()
    assert _render(config, out)[0] == 0 and _leftovers(out) == []


# -- the real situations, where they can be built ------------------------------------------------------
_FS_IOC_SETFLAGS = (1 << 30) | (struct.calcsize("l") << 16) | (ord("f") << 8) | 2


def _set_immutable(path: Path, on: bool) -> bool:
    fd = os.open(path, os.O_RDONLY)
    try:
        flags = int.from_bytes(fcntl.ioctl(fd, mirror._FS_IOC_GETFLAGS, bytes(8))[:4], sys.byteorder)
        flags = flags | 0x10 if on else flags & ~0x10
        fcntl.ioctl(fd, _FS_IOC_SETFLAGS, flags.to_bytes(4, sys.byteorder) + bytes(4))
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


@pytest.mark.parametrize("helper", [True, False], ids=["helper", "one-process"])
def test_a_real_immutable_file_inside_out(
    helper: bool, before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path
) -> None:
    out, old, _new = before_and_after
    target = out / "prod/analytics/kustomization.yaml"
    if not sys.platform.startswith("linux") or not _set_immutable(target, True):
        pytest.skip("setting the immutable attribute needs Linux, root and a file system that has it")
    try:
        code, stderr = _render(config, out)
    finally:
        _set_immutable(target, False)
    assert_nothing_changed(out, old, code, stderr, f"{target} is immutable or append-only")


@pytest.mark.parametrize("mount", ["read-only", "bind"])
def test_a_real_mount_inside_out(
    mount: str, before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path
) -> None:
    """In a private mount namespace (nothing outside the test sees it): a read-only bind mount of a
    folder of the output, or a folder bound onto itself."""
    out, old, _new = before_and_after
    folder = out / "prod/analytics"
    options = "-o ro " if mount == "read-only" else ""
    script = f"mount --bind {options}'{folder}' '{folder}' && exec \"$@\""
    gen = [sys.executable, "-m", "generator", "render", *SELECT, "-c", str(config), "-o", str(out)]
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode
    ):
        pytest.skip("needs unshare and the right to create a mount namespace (root)")
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *gen],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if "mount:" in result.stderr:
        pytest.skip(f"bind mounts are not allowed here: {result.stderr.strip()}")
    assert_nothing_changed(out, old, result.returncode, result.stderr, f"{folder} is a mount point")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
@pytest.mark.parametrize("where", ["prod/analytics", ""], ids=["inside-out", "out-itself"])
def test_a_real_read_only_folder(
    where: str, before_and_after: tuple[Path, dict[str, str], dict[str, str]], config: Path
) -> None:
    out, old, _new = before_and_after
    folder = out / where if where else out
    folder.chmod(0o555)
    try:
        code, stderr = _render(config, out)
    finally:
        folder.chmod(0o755)
    assert_nothing_changed(out, old, code, stderr, f"{folder} is read-only")

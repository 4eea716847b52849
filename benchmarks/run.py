"""Time gen on a synthetic estate, as whole processes, against a floor and against Kapitan.

    python -m benchmarks.run [--namespaces 10] [--deployments 300] [--runs 5] [--kapitan-runs 3]

Every measured command is a fresh process, timed from spawn to exit (the folders a run needs empty
are set aside, not removed: :func:`set_aside`); the table shows the median
of ``--runs`` runs (min and max beside it). CPU seconds are user + system of the process and of
every worker it waited for (``os.wait4``); peak RSS is the largest resident set of any one of
those processes (``ru_maxrss``). Documents are counted in what gen wrote (its index), never
assumed, so the table follows gen as it grows renderers.

- render:   ``gen render --no-cache`` of the whole estate into an empty folder (every environment): cold;
  its runs alternate with deploy-1's, so the two are compared in the same conditions
- fill:     the same with an empty cache (a cold render that also stores every document)
- check:    ``gen render --check`` with nothing changed, the cache kept from the render before
- deploy-1: ``gen render`` after one deployment file changed (the output folder and the cache kept)
- profile-1: ``gen render`` after one profile changed (a label, so every deployment of it changes)
- one-cpu:  ``gen render --no-cache --jobs 1`` on one CPU (``taskset``) into an empty folder
- profile:  ``gen render --no-cache --profile stateful-heavy --env prod`` into an empty folder
- help:     ``gen --help``
- x10:      ``gen render --no-cache`` of an estate ten times as large (``--scale``), into an empty folder
- floor:    a process that only serialises the same documents with PyYAML's C dumper
  (:mod:`benchmarks.floor`); ``x floor`` is gen's wall time over the floor's for as many documents
- writes:   a process that only creates the same files (paths and text read beforehand) in an empty
  folder and flushes them (:mod:`benchmarks.writes`): the kernel's share of a cold render; its runs
  alternate with one-cpu's, each after the previous tree was removed
- kapitan:  ``kapitan compile`` of an equivalent Jinja2 inventory (:mod:`benchmarks.kapitan_peer`),
  in its own virtual environment (``benchmarks/.venv-kapitan``, made on first use); ``kapitan x`` is
  Kapitan's wall time for as many documents (its rate on the estate) over gen's
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from benchmarks import estate

ROOT = Path(__file__).resolve().parent
DEFAULT_WORK = ROOT / ".work"


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    system: float = 0.0  # of ``cpu``: the seconds spent in the kernel


@dataclass
class Row:
    name: str
    docs: int
    samples: list[Sample] = field(default_factory=list)
    floor: float | None = None  # the floor's median wall for as many documents
    floor_cpu: float | None = None  # the floor's median CPU seconds for as many documents

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def user(self) -> float:
        return statistics.median(s.cpu - s.system for s in self.samples)

    @property
    def system(self) -> float:
        return statistics.median(s.system for s in self.samples)

    @property
    def rss(self) -> float:
        return max(s.rss_mb for s in self.samples)


TIME = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)


def measure(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Sample:
    """Run ``cmd`` as a process; wall, CPU (its own and its reaped children's) and peak RSS.

    The command is started by GNU time when there is one: a child forked from this (large)
    process would report this process's resident set as its own peak (Linux records the old
    address space's high-water mark at exec). Without GNU time, ``os.wait4`` measures instead."""
    report = Path(os.environ.get("TMPDIR", "/tmp")) / f"gen-bench-{os.getpid()}.time"
    full = [TIME, "-f", "%U %S %M", "-o", str(report), *cmd] if TIME else cmd
    start = time.perf_counter()
    proc = subprocess.Popen(full, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {code}:\n{err.decode(errors='replace')[-3000:]}")
    if TIME:
        user, system, rss_kb = report.read_text().split()[-3:]
        report.unlink()
        return Sample(wall, float(user) + float(system), int(rss_kb) / 1024, float(system))
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, usage.ru_stime)


def index_files(out: Path) -> list[str]:
    return sorted(json.loads((out / "gen-index.json").read_text("utf-8"))["files"])


def dump_docs(out: Path, target: Path) -> int:
    """The documents gen wrote, as plain data for the floor."""
    docs = [yaml.load((out / path).read_text("utf-8"), Loader=yaml.CSafeLoader) for path in index_files(out)]
    with open(target, "wb") as handle:
        pickle.dump(docs, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return len(docs)


def dump_files(out: Path, target: Path) -> int:
    """The files gen wrote (relative path and text, the index included), for the writes row."""
    files = [(path, (out / path).read_text("utf-8")) for path in [*index_files(out), "gen-index.json"]]
    with open(target, "wb") as handle:
        pickle.dump(files, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return len(files)


def gen_command() -> list[str]:
    exe = Path(sys.executable).with_name("gen")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "generator"]


_TRASH: list[Path] = []  # the folder trees are set aside in (one, under --work)


def set_aside(path: str | Path) -> None:
    """Move a tree out of the way of the next run rather than remove it. On a disk that discards
    freed blocks online (this machine's ext4 is mounted with ``discard``), creating files right after
    thousands were removed costs many times the kernel time: 0.3 s for the 4,204 files of a render
    into a new folder, 1.8 to 3.8 s right after the previous render's tree was removed. Removing
    trees before each run measured the disk recovering from the benchmark's own removals; they are
    removed after the last measurement (:func:`empty_trash`). gen's own removals (deploy-1 and
    profile-1 replace the output tree) stay in its runs."""
    path = Path(path)
    if not os.path.lexists(path):
        return
    trash = _TRASH[0]
    trash.mkdir(exist_ok=True)
    os.rename(path, trash / f"{len(list(trash.iterdir()))}-{path.name}")


def empty_trash() -> None:
    for trash in _TRASH:
        shutil.rmtree(trash, ignore_errors=True)


def repeat(
    row: Row,
    runs: int,
    cmd: list[str],
    before: list[str | Path] | None = None,
    prepare: Callable[[int], None] | None = None,
    **kw: object,
) -> Row:
    for run in range(runs):
        for path in before or ():
            set_aside(path)
        if prepare is not None:
            prepare(run)
        row.samples.append(measure(cmd, **kw))  # type: ignore[arg-type]
    return row


def table(rows: list[Row], kapitan_rate: float | None = None) -> str:
    """``kapitan_rate``: Kapitan's wall seconds per document on the estate (``kapitan x``)."""
    head = (
        f"{'command':<10} {'docs':>6} {'wall s':>7} {'(min-max)':>13} {'CPU s':>7} {'docs/s':>8} {'RSS MB':>7} "
        f"{'x floor':>8} {'CPU x fl':>8} {'kapitan x':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        walls = [s.wall for s in r.samples]
        rate = f"{r.docs / r.wall:8.0f}" if r.docs else f"{'-':>8}"
        ratio = f"{r.wall / r.floor:8.2f}" if r.floor else f"{'-':>8}"
        cpu_ratio = f"{r.cpu / r.floor_cpu:8.2f}" if r.floor_cpu else f"{'-':>8}"
        peer = f"{kapitan_rate * r.docs / r.wall:9.1f}" if kapitan_rate and r.docs and r.floor else f"{'-':>9}"
        lines.append(
            f"{r.name:<10} {r.docs or '-':>6} {r.wall:7.3f} {f'({min(walls):.2f}-{max(walls):.2f})':>13} "
            f"{r.cpu:7.2f} {rate} {r.rss:7.0f} {ratio} {cpu_ratio} {peer}"
        )
    return "\n".join(lines)


def _rewrite(path: Path, pattern: str, replacement: str, append: str = "") -> None:
    import re

    text = path.read_text("utf-8")
    new = re.sub(pattern, replacement, text, count=1, flags=re.M) if pattern else text
    path.write_text((new if new != text else text) + append, "utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--deployments", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kapitan-runs", type=int, default=3, help="0 skips the Kapitan peer")
    parser.add_argument("--jobs", type=int, default=0, help="gen render --jobs (0: one per CPU)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="scratch folder (replaced)")
    parser.add_argument("--gen", help="the gen command to time (default: the gen beside this Python)")
    parser.add_argument("--scale", type=int, default=10, help="the large estate: this many times as large (0: none)")
    parser.add_argument("--scale-runs", type=int, default=1)
    args = parser.parse_args(argv)

    # gen installed from a wheel runs from compiled bytecode; let the warm-up run write the .pyc
    # files of an editable checkout too, or every timed process would compile gen's sources again
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    work: Path = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    _TRASH[:] = [work / "trash"]
    config, out, out_profile = work / "estate", work / "out", work / "out-profile"
    out_cold = work / "out-cold"  # the cold renders', apart from the output folder the cache rows keep
    cache = work / "cache"
    estate.write(config, args.namespaces, args.deployments)
    gen = shlex.split(args.gen) if args.gen else gen_command()
    render = [*gen, "render", "-c", str(config), "-o", str(out), "--jobs", str(args.jobs), "--cache-dir", str(cache)]
    cold = [*gen, "render", "-c", str(config), "-o", str(out_cold), "--jobs", str(args.jobs), "--no-cache"]
    profile = [*gen, "render", "-c", str(config), "-o", str(out_profile), "-p", "stateful-heavy", "-e", "prod"]
    profile += ["--jobs", str(args.jobs), "--no-cache"]
    one_cpu = ["taskset", "-c", "0", *gen, "render", "-c", str(config), "-o", str(out), "--jobs", "1", "--no-cache"]
    load_before = os.getloadavg()

    measure(cold)  # warm the page cache and the .pyc files; also the documents for the floor
    docs = dump_docs(out_cold, work / "docs.pickle")
    dump_files(out_cold, work / "files.pickle")
    measure(profile)
    profile_docs = dump_docs(out_profile, work / "profile-docs.pickle")

    floor_cmd = [sys.executable, "-m", "benchmarks.floor"]
    floor = repeat(Row("floor", docs), args.runs, [*floor_cmd, str(work / "docs.pickle")])
    floor_profile = repeat(Row("floor-p", profile_docs), args.runs, [*floor_cmd, str(work / "profile-docs.pickle")])
    writes_out = work / "out-writes"
    writes_cmd = [sys.executable, "-m", "benchmarks.writes", str(work / "files.pickle"), str(writes_out)]
    writes = Row("writes", docs)
    fl = {"floor": floor.wall, "floor_cpu": floor.cpu}
    deployment = sorted((config / "deployments").glob("*/*.yaml"))[0]
    small = config / "profiles" / "small.yaml"
    small_text = small.read_text("utf-8")

    def edit_deployment(run: int) -> None:  # a change no earlier run made: never in the cache
        _rewrite(deployment, r"--sink-topic \S+", f"--sink-topic bench-{run}-{time.time_ns()}")

    def edit_profile(run: int) -> None:
        small.write_text(small_text + f"metadata:\n  labels:\n    bench-edit: r{run}-{time.time_ns()}\n", "utf-8")

    cold_row = Row("render", docs, **fl)
    rows = [cold_row]
    rows.append(repeat(Row("fill", docs, **fl), args.runs, render, before=[out, cache]))
    rows.append(repeat(Row("check", docs, **fl), args.runs, [*render, "--check"]))
    # deploy-1 is judged by its ratio to the cold render: their runs alternate, so that a drift in
    # the speed of the shared machine (a fifth within minutes, user CPU included) reaches both alike
    deploy = Row("deploy-1", docs, **fl)
    for _ in range(args.runs):
        repeat(cold_row, 1, cold, before=[out_cold])
        repeat(deploy, 1, render, prepare=edit_deployment)  # a new value each time (its clock)
    set_aside(out_cold)
    rows.append(deploy)
    rows.append(repeat(Row("profile-1", docs, **fl), args.runs, render, prepare=edit_profile))
    small.write_text(small_text, "utf-8")
    if shutil.which("taskset"):
        # alternating with the writes row: creating files right after a tree was removed costs this
        # disk from 0.1 to 2 s of kernel time, so both are measured in the same conditions
        one = Row("one-cpu", docs, **fl)
        for _ in range(args.runs):
            repeat(one, 1, one_cpu, before=[out])
            repeat(writes, 1, ["taskset", "-c", "0", *writes_cmd], before=[writes_out])
        rows.append(one)
    else:
        repeat(writes, args.runs, writes_cmd, before=[writes_out])
    rows.append(
        repeat(
            Row("profile", profile_docs, floor=floor_profile.wall, floor_cpu=floor_profile.cpu),
            args.runs,
            profile,
            before=[out_profile],
        )
    )
    rows.append(repeat(Row("help", 0), args.runs, [*gen, "--help"]))
    if args.scale:
        big, big_out = work / "estate-x", work / "out-x"
        estate.write(big, args.namespaces * args.scale, args.deployments * args.scale)
        big_render = [*gen, "render", "-c", str(big), "-o", str(big_out), "--jobs", str(args.jobs), "--no-cache"]
        measure(big_render)  # warm the page cache
        big_docs = len(index_files(big_out))
        scaled = {"floor": floor.wall * big_docs / docs, "floor_cpu": floor.cpu * big_docs / docs}
        rows.append(repeat(Row(f"x{args.scale}", big_docs, **scaled), args.scale_runs, big_render, before=[big_out]))
        set_aside(big_out)
    rows += [floor, floor_profile, writes]
    kapitan_note = ""
    kapitan_rate = None
    if args.kapitan_runs:
        from benchmarks import kapitan_peer

        project = kapitan_peer.build(config, out, work / "kapitan")
        peer = repeat(Row("kapitan", project.documents), args.kapitan_runs, project.command, cwd=project.root)
        peer.floor = floor.wall * project.documents / docs
        peer.floor_cpu = floor.cpu * project.documents / docs
        kapitan_rate = peer.wall / project.documents
        rows.append(peer)
        kapitan_note = (
            f"\nKapitan / gen render (wall): {peer.wall / rows[0].wall:.1f}x   "
            f"(CPU: {peer.cpu / rows[0].cpu:.1f}x)   kapitan {project.version}, {project.targets} targets"
        )
    load_after = os.getloadavg()
    print(
        f"estate: {args.deployments} deployments x {len(list((config / 'environments').glob('*.yaml')))} "
        f"environments, {args.namespaces} "
        f"namespaces; {docs} documents; median of {args.runs} runs\n"
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    empty_trash()
    print(table(rows, kapitan_rate) + kapitan_note)
    by_name = {r.name: r for r in rows}
    if "one-cpu" in by_name:  # what producing the output costs at least: serialising it and creating its files
        least = floor.cpu + writes.cpu
        one = by_name["one-cpu"]
        print(
            f"one-cpu: CPU over floor + writes CPU ({floor.cpu:.2f} + {writes.cpu:.2f} s): {one.cpu / least:.2f}x; "
            f"user CPU {one.user:.2f} s over the floor's {floor.user:.2f} s: {one.user / floor.user:.2f}x; "
            f"kernel {one.system:.2f} s "
            f"(writes: {', '.join(f'{x.system:.2f}' for x in writes.samples)} s)"
        )


if __name__ == "__main__":
    main()

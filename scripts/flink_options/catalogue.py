r"""Generate the catalogue of Flink configuration options gen checks ``flinkConfiguration`` against.

For each Flink distribution given (a folder with ``lib/`` and ``opt/``: an unpacked Flink, or the
``pyflink`` folder of the ``apache-flink-libraries`` package), compile ``OptionCatalogue.java``
(javac, Java 11+), run it on the distribution's jars and write
``generator/flink/option-catalogue/<major.minor>.json``: every option's key, type, enum constants, deprecated
and fallback keys. ``--check`` compares instead of writing (exit 1 on a difference).

    home=$(python -c 'import os, pyflink; print(os.path.dirname(pyflink.__file__))')
    python scripts/flink_options/catalogue.py "$home" apache_flink_libraries-1.20.5/deps

Distributions of other versions come from PyPI: ``pip download --no-deps apache-flink-libraries==1.20.*``
(an sdist: its ``deps/`` folder holds ``lib/`` and ``opt/``).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "OptionCatalogue.java"
OUT = HERE.parents[1] / "generator" / "flink" / "option-catalogue"
_DIST = re.compile(r"flink-dist(?:_[0-9.]+)?-(?P<release>(?P<version>[0-9]+\.[0-9]+)\.[0-9]+)\.jar")
#: the jars whose options belong in the Flink configuration: the distribution's lib/ (core, runtime,
#: state backends, Kubernetes, table), the planner hidden inside its loader, PyFlink and the SQL client
_OPT_JARS = ("flink-python-", "flink-sql-client-")


def flink_version(home: Path) -> tuple[str, str]:
    """The ``major.minor`` version of a distribution and its full release (``2.3``, ``2.3.0``)."""
    for jar in sorted((home / "lib").glob("flink-dist*.jar")):
        match = _DIST.fullmatch(jar.name)
        if match:
            return match["version"], match["release"]
    raise SystemExit(f"{home} is not a Flink distribution: no lib/flink-dist-<version>.jar")


def _jars(home: Path, scratch: Path) -> list[Path]:
    jars = sorted(p for p in (home / "lib").glob("flink-*.jar"))
    jars += sorted(p for p in (home / "opt").glob("*.jar") if p.name.startswith(_OPT_JARS))
    nested: list[Path] = []
    for jar in jars:
        with zipfile.ZipFile(jar) as archive:
            for name in sorted(n for n in archive.namelist() if n.endswith(".jar") and "/" not in n):
                target = scratch / f"{jar.stem}--{name}"
                target.write_bytes(archive.read(name))
                nested.append(target)
    return jars + nested


def read_options(home: Path) -> dict[str, dict[str, Any]]:
    """Key -> {type, choices?, deprecatedKeys?, fallbackKeys?, deprecated?} of one distribution."""
    with tempfile.TemporaryDirectory(prefix="flink-options-") as tmp:
        scratch = Path(tmp)
        subprocess.run(["javac", "-d", str(scratch), str(SOURCE)], check=True)
        jars = _jars(home, scratch)
        done = subprocess.run(
            ["java", "-cp", str(scratch), "OptionCatalogue", *map(str, jars)],
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    options: dict[str, dict[str, Any]] = {}
    for line in done.stdout.splitlines():
        key, kind, choices, deprecated_keys, fallback_keys, deprecated = line.split("\t")
        entry: dict[str, Any] = {"type": kind}
        if choices:
            entry["choices"] = choices.split(",")
        if deprecated_keys:
            entry["deprecatedKeys"] = deprecated_keys.split(",")
        if fallback_keys:
            entry["fallbackKeys"] = fallback_keys.split(",")
        if deprecated == "1":
            entry["deprecated"] = True
        options[key] = entry
    return options


def render(release: str, options: dict[str, dict[str, Any]]) -> str:
    """The committed form: one option per line, sorted, so a new Flink version reviews as a diff."""
    lines = [f"  {json.dumps(key)}: {json.dumps(entry, sort_keys=True)}" for key, entry in sorted(options.items())]
    return f'{{"flink": {json.dumps(release)}, "options": {{\n' + ",\n".join(lines) + "\n}}\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("homes", nargs="+", type=Path, help="Flink distributions (folders with lib/ and opt/)")
    parser.add_argument("--check", action="store_true", help="compare with the committed catalogue, write nothing")
    args = parser.parse_args(argv)
    status = 0
    for home in args.homes:
        version, release = flink_version(home)
        text = render(release, read_options(home))
        path = OUT / f"{version}.json"
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                print(f"{path.name} differs from what Flink {version} declares", file=sys.stderr)
                status = 1
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path} ({text.count(chr(10)) - 1} options)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Locate a Flink distribution and run Flink's own memory calculator (``BashJavaUtils``).

A full Flink distribution ships inside the PyFlink wheels (``apache-flink`` +
``apache-flink-libraries``): ``site-packages/pyflink`` holds ``bin/``, ``lib/flink-dist-*.jar``
and friends. ``pip install --no-deps apache-flink==2.3.0 apache-flink-libraries==2.3.0`` is enough
to get the JVM side without PyFlink's large Python dependencies. ``FLINK_HOME`` wins when it is set.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CALCULATOR_MAIN_CLASS",
    "INSTALL_HINT",
    "CalculatorResult",
    "calculator_classpath",
    "find_flink_home",
    "flink_dist_jar",
    "flink_version",
    "java_version",
    "run_calculator",
]

CALCULATOR_MAIN_CLASS = "org.apache.flink.runtime.util.bash.BashJavaUtils"
RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:"
INSTALL_HINT = (
    "install a Flink distribution, e.g. `pip install --no-deps apache-flink==2.3.0 "
    "apache-flink-libraries==2.3.0` (it lands in site-packages/pyflink), or set FLINK_HOME to an "
    "unpacked Flink; a `java` (11+) must be on PATH"
)

_DIST_JAR = re.compile(r"flink-dist(?:_[0-9.]+)?-(?P<version>[0-9][^/]*)\.jar")


def flink_dist_jar(home: Path) -> Path | None:
    """``lib/flink-dist-<version>.jar`` of a Flink home, if there is exactly one."""
    lib = home / "lib"
    if not lib.is_dir():
        return None
    jars = sorted(p for p in lib.iterdir() if _DIST_JAR.fullmatch(p.name))
    return jars[0] if len(jars) == 1 else None


def flink_version(home: Path) -> str | None:
    """The Flink version of a distribution, read from its ``flink-dist`` jar name."""
    jar = flink_dist_jar(home)
    if jar is None:
        return None
    match = _DIST_JAR.fullmatch(jar.name)
    return match["version"] if match else None


def _is_flink_home(path: Path) -> bool:
    return flink_dist_jar(path) is not None and (path / "bin" / "bash-java-utils.jar").is_file()


def find_flink_home() -> Path | None:
    """A usable Flink distribution: ``$FLINK_HOME`` if set and valid, else the ``pyflink`` package.

    Finding the ``pyflink`` package does not import it (PyFlink's Python dependencies are not needed).
    """
    env = os.environ.get("FLINK_HOME")
    if env and _is_flink_home(Path(env)):
        return Path(env)
    try:
        spec = importlib.util.find_spec("pyflink")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location)
            if _is_flink_home(candidate):
                return candidate
    return None


def calculator_classpath(home: Path) -> str:
    """Classpath for ``BashJavaUtils``: ``bin/bash-java-utils.jar`` plus ``lib/flink-dist-*.jar``."""
    utils = home / "bin" / "bash-java-utils.jar"
    dist = flink_dist_jar(home)
    if dist is None or not utils.is_file():
        raise FileNotFoundError(
            f"{home} is not a Flink distribution (no bin/bash-java-utils.jar or lib/flink-dist-*.jar)"
        )
    return os.pathsep.join([str(utils), str(dist)])


@dataclass(frozen=True)
class CalculatorResult:
    """What ``BashJavaUtils GET_TM_RESOURCE_PARAMS`` / ``GET_JM_RESOURCE_PARAMS`` printed."""

    command: tuple[str, ...]
    returncode: int
    output: str
    #: ``-Xmx… -Xms… [-XX:MaxDirectMemorySize=…] -XX:MaxMetaspaceSize=…`` (None on failure)
    jvm_params: str | None = None
    #: the ``-D key=value`` pairs of the second result line (values like ``134217728b``)
    dynamic_configs: dict[str, str] = field(default_factory=dict)
    #: the "Final … Memory configuration" log block: [(label, bytes, human text)], in order
    log_sizes: tuple[tuple[str, int, str], ...] = ()
    #: the exception chain on failure: "Exception in thread main" first, then each "Caused by"
    errors: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.jvm_params is not None


_LOG_SIZE = re.compile(r"^\S+\s+\[\]\s+-\s+(?P<label>\s+[A-Za-z][A-Za-z -]*):\s+(?P<human>.+?)\s*$")
_HUMAN_BYTES = re.compile(r"(?:\S+ \()?(?P<bytes>\d+) bytes\)?")
_EXCEPTION = re.compile(r"^(?:Exception in thread \"[^\"]*\" |Caused by: )(?P<cls>[\w.$]+)(?:: (?P<msg>.*))?$")


def _parse_output(command: tuple[str, ...], returncode: int, output: str) -> CalculatorResult:
    results = [line[len(RESULT_PREFIX) :] for line in output.splitlines() if line.startswith(RESULT_PREFIX)]
    dynamic: dict[str, str] = {}
    if len(results) >= 2:
        for item in results[1].split("-D "):
            item = item.strip()
            if item:
                key, _, value = item.partition("=")
                dynamic[key] = value
    sizes: list[tuple[str, int, str]] = []
    in_block = False
    for line in output.splitlines():
        if "Final" in line and "Memory configuration:" in line:
            in_block, sizes = True, []
            continue
        match = _LOG_SIZE.match(line) if in_block else None
        human = _HUMAN_BYTES.fullmatch(match["human"]) if match else None
        if match is None or human is None:
            in_block = False
            continue
        sizes.append((match["label"].strip(), int(human["bytes"]), match["human"]))
    errors = tuple((m["cls"], m["msg"] or "") for m in map(_EXCEPTION.match, output.splitlines()) if m is not None)
    return CalculatorResult(
        command=command,
        returncode=returncode,
        output=output,
        jvm_params=results[0].strip() if results else None,
        dynamic_configs=dynamic,
        log_sizes=tuple(sizes),
        errors=errors,
    )


def run_calculator(
    home: Path,
    process: str,
    conf: Mapping[str, str],
    *,
    java: str | None = None,
    timeout: float = 120.0,
) -> CalculatorResult:
    """Run Flink's memory calculator for ``process`` ("taskmanager" or "jobmanager").

    Every configuration entry is passed as ``-D key=value`` on top of an empty ``config.yaml``, so
    the result depends on ``conf`` and Flink's defaults only.
    """
    commands = {"taskmanager": "GET_TM_RESOURCE_PARAMS", "jobmanager": "GET_JM_RESOURCE_PARAMS"}
    if process not in commands:
        raise ValueError(f"process must be one of {sorted(commands)}, not {process!r}")
    java_bin = java or shutil.which("java")
    if java_bin is None:
        raise FileNotFoundError(f"no `java` on PATH; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="gen-flink-conf-") as conf_dir:
        (Path(conf_dir) / "config.yaml").write_text("", encoding="utf-8")
        args: list[str] = []
        for key, value in conf.items():
            args += ["-D", f"{key}={value}"]
        command = (
            java_bin,
            "-cp",
            calculator_classpath(home),
            CALCULATOR_MAIN_CLASS,
            commands[process],
            "--configDir",
            conf_dir,
            *args,
        )
        done = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "FLINK_CONF_DIR": conf_dir},
        )
    return _parse_output(tuple(command), done.returncode, done.stdout)


def java_version(java: str | None = None) -> str | None:
    """First line of ``java -version`` (None when there is no java)."""
    java_bin = java or shutil.which("java")
    if java_bin is None:
        return None
    done = subprocess.run([java_bin, "-version"], capture_output=True, text=True, check=False)
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[0] if lines else None

"""The programs a smoke run needs, and how to install the missing ones."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from generator.errors import GenError
from generator.flink import distribution

__all__ = [
    "FLINK_HINT",
    "JAVAC_HINT",
    "JAVA_HINT",
    "PROMETHEUS_HINT",
    "SmokeToolsMissing",
    "Tools",
    "find_prometheus",
    "find_tools",
]

FLINK_HINT = (
    "install a Flink 2.x distribution: pip install --no-deps apache-flink==2.3.0 apache-flink-libraries==2.3.0 "
    "(the JVM side of PyFlink, about 380 MB, lands in site-packages/pyflink), or pip install 'generator[smoke]' "
    "(the same with PyFlink's Python dependencies, about 850 MB), or set FLINK_HOME to an unpacked Flink 2.x"
)
JAVA_HINT = "install Java 11 or later: apt-get install openjdk-17-jre-headless (or put `java` on PATH)"
JAVAC_HINT = "--job compiles a tiny Java job and needs a JDK: apt-get install openjdk-17-jdk-headless"
PROMETHEUS_HINT = (
    "install Prometheus: apt-get update && apt-get install --no-install-recommends prometheus "
    "(or set PROMETHEUS=/path/to/prometheus)"
)
# What the start scripts and the configuration need besides lib/flink-dist-*.jar (apache-flink's part).
_DISTRIBUTION_FILES = ("bin/jobmanager.sh", "bin/taskmanager.sh", "bin/config.sh", "conf/log4j-console.properties")
_MIN_FLINK = (1, 19)  # config.yaml (FLIP-366)


class SmokeToolsMissing(GenError):
    """One or more programs are missing; each line says how to install one."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(f"gen smoke cannot run: {', '.join(what for what, _ in problems)}")

    def lines(self) -> list[str]:
        return [f"error: {what} (hint: {hint})" for what, hint in self.problems]


@dataclass(frozen=True)
class Tools:
    flink_home: Path
    flink_version: str
    java: str
    java_version: str
    prometheus: str
    prometheus_version: str
    javac: str | None = None

    @property
    def flink_version_tuple(self) -> tuple[int, int]:
        return _version_tuple(self.flink_version) or (0, 0)


def _version_tuple(text: str | None) -> tuple[int, int] | None:
    match = re.search(r"(\d+)\.(\d+)", text or "")
    return (int(match[1]), int(match[2])) if match else None


def find_prometheus() -> str | None:
    """``$PROMETHEUS`` when set and executable, else ``prometheus`` on PATH."""
    configured = os.environ.get("PROMETHEUS")
    if configured:
        return configured if os.path.isfile(configured) and os.access(configured, os.X_OK) else None
    return shutil.which("prometheus")


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def find_tools(*, job: bool = False) -> Tools:
    """Flink, Java and Prometheus (and javac for ``--job``), or :class:`SmokeToolsMissing`."""
    problems: list[tuple[str, str]] = []
    home = distribution.find_flink_home()
    version = distribution.flink_version(home) if home is not None else None
    if home is None:
        problems.append(("no Flink distribution found", FLINK_HINT))
    else:
        missing = [name for name in _DISTRIBUTION_FILES if not (home / name).is_file()]
        parsed = _version_tuple(version)
        if missing:
            problems.append((f"the Flink distribution in {home} has no {', '.join(missing)}", FLINK_HINT))
        elif parsed is None or parsed < _MIN_FLINK:
            problems.append(
                (f"the Flink distribution in {home} is {version}; gen smoke needs 1.19 or later", FLINK_HINT)
            )
    java = shutil.which("java")
    java_version = distribution.java_version(java) if java else None
    if java is None:
        problems.append(("no `java` on PATH", JAVA_HINT))
    else:
        parsed_java = _version_tuple(re.sub(r'^[^"]*"1\.', '"', java_version or ""))
        if parsed_java is not None and parsed_java[0] < 11:
            problems.append((f"{java} is {java_version}; Flink 2 needs Java 11 or later", JAVA_HINT))
    prometheus = find_prometheus()
    if prometheus is None:
        problems.append(("no `prometheus` server found", PROMETHEUS_HINT))
    javac = shutil.which("javac")
    if job and javac is None:
        problems.append(("no `javac` on PATH", JAVAC_HINT))
    if problems:
        raise SmokeToolsMissing(problems)
    assert home is not None and java is not None and prometheus is not None and version is not None
    return Tools(
        flink_home=home,
        flink_version=version,
        java=java,
        java_version=java_version or "",
        prometheus=prometheus,
        prometheus_version=_first_line([prometheus, "--version"]),
        javac=javac,
    )

"""The Python job gen renders for the Flink operator runs through the real Flink Python driver.

The python-job shape (tests/real_jobs/python-job) is rendered for the flink-operator target; its
``job.args`` are run by ``org.apache.flink.client.python.PythonDriver`` from the Flink distribution
the test command installs, with the files the arguments name built at the same paths below a
temporary folder. The driver must accept the options, put the artifact and the libraries on the
PYTHONPATH, run the entry module and pass it exactly the job's own arguments. The jar the rendered
``jarURI`` names follows the distribution's own file name (``opt/flink-python-<release>.jar``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from generator.config.layers import ConfigRepo
from generator.config.resolve import Resolver
from generator.data import copy_example
from generator.flink.distribution import find_flink_home
from generator.render.plan import Selection, render

SHAPE = Path(__file__).parent.parent / "real_jobs" / "python-job"
IMAGE_ROOT = "/opt/flink/usrlib/"


def rendered_job(tmp_path: Path) -> dict[str, Any]:
    config = tmp_path / "config"
    copy_example(config)
    shutil.copytree(SHAPE, config, dirs_exist_ok=True)
    repo = ConfigRepo(config)
    files = render(repo, Resolver(repo), Selection(env="prod", target="flink-operator"))
    [doc] = [yaml.safe_load(f.content) for f in files if f.path.endswith("flinkdeployment-churn-features.yaml")]
    job: dict[str, Any] = doc["spec"]["job"]
    return job


def build_files(root: Path) -> None:
    """The files the shape names, as its image would hold them (below ``root``)."""
    churn = root / "churn"
    churn.mkdir(parents=True)
    with zipfile.ZipFile(churn / "churn_features.zip", "w") as archive:
        archive.writestr("churn/__init__.py", "")
        archive.writestr(
            "churn/features.py",
            "import sys\nimport common\nprint('JOB-ARGS', sys.argv[1:])\n",
        )
    with zipfile.ZipFile(churn / "common.zip", "w") as archive:
        archive.writestr("common/__init__.py", "")
    venv = root / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    with tarfile.open(churn / "venv.tar.gz", "w:gz") as archive:  # the driver extracts it (#venv)
        archive.add(venv / "bin", arcname="bin")


def test_the_rendered_python_job_runs_through_flinks_python_driver(tmp_path: Path) -> None:
    home = find_flink_home()
    assert home is not None, "the test command installs Flink"
    job = rendered_job(tmp_path)
    assert job["entryClass"] == "org.apache.flink.client.python.PythonDriver"
    release = re.fullmatch(r"local:///opt/flink/opt/flink-python-(\d+\.\d+\.\d+)\.jar", job["jarURI"])
    assert release is not None, job["jarURI"]
    [driver_jar] = sorted((home / "opt").glob("flink-python-*.jar"))
    assert re.fullmatch(r"flink-python-\d+\.\d+\.\d+\.jar", driver_jar.name)  # the naming jarURI follows
    root = tmp_path / "image"
    build_files(root)
    args = [a.replace(IMAGE_ROOT, f"{root}/") for a in job["args"]]
    executable = args.index("-pyclientexec") + 1
    assert args[executable].startswith("/")
    args[executable] = sys.executable  # the image's interpreter, here the test's
    classpath = f"{home / 'lib'}/*:{driver_jar}"
    result = subprocess.run(
        ["java", "-cp", classpath, job["entryClass"], *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "JOB-ARGS ['--window', '1h']" in result.stdout

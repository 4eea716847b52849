"""The committed catalogue of Flink options is what its generator reads from a real Flink
distribution: the installed apache-flink 2.3.0 (the test command installs it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from generator.flink import catalogue
from generator.flink.distribution import find_flink_home

SCRIPT = Path(__file__).parents[2] / "scripts" / "flink_options" / "catalogue.py"


def generator_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flink_option_catalogue", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_committed_catalogue_is_what_the_installed_distribution_declares() -> None:
    home = find_flink_home()
    assert home is not None, "the test command installs apache-flink-libraries 2.3.0"
    script = generator_script()
    version, release = script.flink_version(home)
    assert (version, release) == ("2.3", "2.3.0")
    read = script.read_options(home)
    committed = (SCRIPT.parents[2] / "generator" / "flink" / "option-catalogue" / "2.3.json").read_text()
    assert script.render(release, read) == committed
    # and what gen loads is that data
    loaded = catalogue.catalogue("2.3")
    assert loaded is not None and loaded.options == read and loaded.release == "2.3.0"
    assert script.main(["--check", str(home)]) == 0

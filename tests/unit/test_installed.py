"""The versions gen reads from the names of the installed metadata folders agree with importlib.metadata."""

from __future__ import annotations

import importlib.metadata

from generator import installed


def test_every_installed_distribution_has_the_version_importlib_metadata_reports() -> None:
    names = {dist.metadata["Name"] for dist in importlib.metadata.distributions()}
    assert {"generator", "jsonschema", "detect-secrets"} <= names
    for name in names:
        expected = importlib.metadata.version(name)
        assert installed.version(name) == expected, name
        assert installed.version(name.upper().replace("-", "_")) == expected, name  # names compare normalised


def test_a_distribution_that_is_not_installed_has_no_version() -> None:
    assert installed.version("surely-not-installed-anywhere") is None

"""Property: whatever string value of whatever layer a credential is planted in, in whatever known
form, gen either refuses it — without repeating it — or it reaches no output byte."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.data import example_files
from tests.conftest import run_cli, tree_digest

SECRET = "Pl4ntedZq8Secret77"
# Forms a value shows by itself (a bare random string under an innocent key is indistinguishable
# from a name; key names are covered by tests/unit/test_credentials.py).
FORMS = (
    "AKIAPL4NTEDZQ8KEY77X",  # an AWS access key id (the secret itself is the id)
    "https://ci:{s}@repo.acme.internal/app.jar",
    "jdbc:postgresql://db:5432/app?user=app&password={s}",
    "-Dssl.keystore.password={s} -XX:+UseG1GC",
    '{{name}} required username="u" password="{s}";',
    "--db-password {s} --topic payments",
    "token: {s}",
    "ghp_{s}{s}AbCd",
)
EXAMPLES = int(os.environ.get("GEN_HYPOTHESIS_EXAMPLES", "25"))


def _string_leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _string_leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _string_leaves(v, (*path, i))]
    return [path] if isinstance(value, str) else []


def _leaves() -> list[tuple[str, tuple[Any, ...]]]:
    from generator.data import example_config_dir

    root = example_config_dir()
    found = []
    for rel in example_files():
        data = yaml.safe_load((root / rel).read_text())
        found.extend((str(rel), path) for path in _string_leaves(data))
    return found


LEAVES = _leaves()


def _set(data: Any, path: tuple[Any, ...], value: str) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(leaf=st.sampled_from(LEAVES), form=st.sampled_from(FORMS), keep=st.booleans())
def test_a_planted_credential_is_refused_or_reaches_no_output(
    config: Path, tmp_path_factory: Any, leaf: tuple[str, tuple[Any, ...]], form: str, keep: bool
) -> None:
    file, path = leaf
    target = config / file
    original = target.read_text()
    data = yaml.safe_load(original)
    before = data
    for part in path:
        before = before[part]
    planted = form.format(s=SECRET)
    _set(data, path, f"{before} {planted}" if keep else planted)
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path_factory.mktemp("out")
    try:
        result = run_cli("render", "-e", "prod", "-c", str(config), "-o", str(out))
        secret = "AKIAPL4NTEDZQ8KEY77X" if "AKIA" in form else SECRET
        assert secret not in result.stdout + result.stderr, (file, path, result.stderr)
        written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
        assert secret.encode() not in written, (file, path, form, result.code)
        if result.code == 0:
            assert tree_digest(out)
    finally:
        target.write_text(original)

"""The README's commands table lists every command gen has (subcommands by their full name), and
nothing gen does not have."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from generator.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _commands(group: Any, prefix: str = "gen") -> set[str]:
    """The full name of every command below a group (a group has ``commands``)."""
    found: set[str] = set()
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            found |= _commands(command, path)
        else:
            found.add(path)
    return found


def test_the_commands_table_lists_every_command() -> None:
    root = typer.main.get_command(app)
    commands = _commands(root)
    assert {"gen diff", "gen init", "gen new namespace", "gen new deployment"} <= commands
    readme = ROOT / "README.md"
    table = readme.read_text().split("## Commands", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in table.splitlines() if line.startswith("| `gen ") and not line.startswith("| `gen --")]
    listed = set()
    for row in rows:
        words = re.match(r"\| `(gen(?: [a-z][a-z-]*)+)", row)
        assert words is not None, row
        listed.add(words.group(1))
    # a row names a command by its words up to the first option or argument
    assert commands <= listed, f"not in the README's commands table: {sorted(commands - listed)}"
    assert listed <= commands, f"the table names commands gen does not have: {sorted(listed - commands)}"

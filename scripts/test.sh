#!/usr/bin/env bash
# The test command: installs everything the tests need on a fresh machine, then runs
# ruff, mypy and pytest. Extra pytest arguments are passed through.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: prometheus (promtool and the server, for the alert-rule and smoke tests).
if ! command -v promtool >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

# Python packages, in a project-local virtual environment.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"

.venv/bin/ruff check generator tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# The test command: installs everything the tests need on a fresh machine, then runs
# ruff (lint and format), mypy, the import contracts and pytest. Extra pytest arguments are passed through.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: prometheus (promtool and the server, for the alert-rule and smoke tests), openssl and a
# JDK (Flink's own memory calculator, the local Flink of the smoke tests, and javac for the
# smoke test's tiny job).
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# openssl: the self-signed certificate of the local AppManager the gen vvp apply tests talk TLS to
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
{ command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1; } || missing+=(openjdk-17-jdk-headless)
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages, in a project-local virtual environment.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
# A complete Flink distribution (the JVM side of PyFlink; its Python dependencies are not needed).
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps apache-flink==2.3.0 apache-flink-libraries==2.3.0

.venv/bin/ruff check generator tests benchmarks
.venv/bin/ruff format --check generator tests benchmarks
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Lint and type-check (CI runs it before the tests): ruff's rules and formatting as configured in pyproject.toml,
# and mypy over the package. Each prints what it found; the script fails when any of them does.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check transformers_ih tests benchmarks
ruff format --check transformers_ih tests benchmarks
mypy
# what each task call returns, per kind of input (the overloads in the task modules), as an IDE shows it
mypy tests/call_shapes.py

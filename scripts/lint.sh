#!/usr/bin/env bash
# Lint (ruff), format check (ruff format) and type check (mypy) of the whole tree; run by scripts/test.sh
# before the tests. Fix what it reports with: .venv/bin/ruff check --fix . && .venv/bin/ruff format .
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

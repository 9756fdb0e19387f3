#!/usr/bin/env bash
# Install (scripts/setup.sh), lint and type-check (scripts/lint.sh), then run the whole test suite offline.
# Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/lint.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 BENTOML_DO_NOT_TRACK=True
exec .venv/bin/python -m pytest "$@"

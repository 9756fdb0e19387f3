#!/usr/bin/env bash
# Install (scripts/setup.sh) and run the whole test suite offline. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 BENTOML_DO_NOT_TRACK=True
exec .venv/bin/python -m pytest "$@"

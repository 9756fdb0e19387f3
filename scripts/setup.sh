#!/usr/bin/env bash
# Create .venv and install every FashionEdit distribution in this repo (editable),
# plus the test tools. Safe to re-run; works offline from this machine's package mirror.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install -q --upgrade pip >/dev/null 2>&1 || true

# Every third-party package comes at the version in requirements.lock (regenerate: scripts/lock.sh).
LOCK=(-c requirements.lock)
# torch and torchvision first, pinned together by the lock, so the distributions' extras reuse them.
python -m pip install -q "${LOCK[@]}" torch torchvision

# Every folder with a pyproject.toml under contracts/, clients/, libs/ and services/ is one distribution;
# its optional extra "all" (where defined) brings every backend's dependencies for the tests.
editables=()
for dir in contracts clients libs/*/ services/*/; do
  dir=${dir%/}
  [ -f "$dir/pyproject.toml" ] || continue
  if grep -qE '^all *=' "$dir/pyproject.toml"; then editables+=(-e "$dir[all]"); else editables+=(-e "$dir"); fi
done
python -m pip install -q "${LOCK[@]}" "${editables[@]}" -r requirements-dev.txt
echo "installed: ${editables[*]//-e /}"

# Headless Chromium (Debian package `chromium`) opens exported session pages in tests/clients; best effort:
# without it those checks skip with a reason.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; }; } \
    || echo "note: could not install chromium; HTML export checks in tests/clients will be skipped"
fi

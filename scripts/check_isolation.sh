#!/usr/bin/env bash
# Install each service alone and import it: proves every service declares what it needs and imports
# nothing from another service.
#
# For each SERVICE[:EXTRAS] (default: every service bare, then with its torch extras):
#   1. a clean virtualenv (no --system-site-packages);
#   2. `pip install services/SERVICE[EXTRAS]`, the FashionEdit libraries it declares resolved from this
#      checkout through constraints (a constraint installs nothing by itself), everything else from the index
#      at the versions in requirements.lock; torch and torchvision first, pinned together, when the extras need torch;
#   3. checks: `fashionedit.services.SERVICE.service` imports; the installed fashionedit-* distributions are
#      exactly those the pyprojects declare (transitively); no other service's package is importable;
#      bare installs are torch-free.
# Each venv is removed after its check (a torch venv is ~6 GB). Usage:
#   scripts/check_isolation.sh                       # all
#   scripts/check_isolation.sh analyzer scorer:clip  # some
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
PYTHON=${PYTHON:-python3}
TORCH_PIN=${TORCH_PIN:-"torch==2.14.1 torchvision==0.29.1"}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fashionedit-isolation.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 BENTOML_DO_NOT_TRACK=True
export BENTOML_HOME="$WORK/bentoml"

if [ $# -eq 0 ]; then
  set -- analyzer editor generator scorer generator:diffusers editor:local scorer:clip,ssim
fi

# Build from copies, so setuptools' build/ and egg-info never land in the checkout.
SRC="$WORK/src"
constraints="$WORK/constraints.txt"
for dir in contracts libs/*/ services/*/; do
  dir=${dir%/}
  [ -f "$dir/pyproject.toml" ] || continue
  mkdir -p "$SRC/$dir"
  tar -C "$dir" --exclude=build --exclude='*.egg-info' --exclude=__pycache__ -cf - . | tar -C "$SRC/$dir" -xf -
  name=$("$PYTHON" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["name"])' "$dir/pyproject.toml")
  echo "$name @ file://$SRC/$dir" >>"$constraints"
done

# Which fashionedit-* distributions SERVICE[EXTRAS] needs, from the pyprojects (transitively).
expected_dists() {
  "$PYTHON" - "$SRC" "$1" "$2" <<'EOF'
import re, sys, tomllib
from pathlib import Path
repo, service, extras = Path(sys.argv[1]), sys.argv[2], [e for e in sys.argv[3].split(",") if e]
folders = {}
for p in [repo / "contracts" / "pyproject.toml", *sorted((repo / "libs").glob("*/pyproject.toml")), *sorted((repo / "services").glob("*/pyproject.toml"))]:
    folders[tomllib.loads(p.read_text())["project"]["name"]] = p.parent
def requires(name, extras):
    project = tomllib.loads((folders[name] / "pyproject.toml").read_text())["project"]
    reqs = project.get("dependencies", []) + [r for e in extras for r in project.get("optional-dependencies", {})[e]]
    return {re.match(r"[\w.-]+", r).group(0).lower().replace("_", "-") for r in reqs if r.lower().startswith("fashionedit")}
seen, todo = set(), [(f"fashionedit-{service}", extras)]
while todo:
    name, ex = todo.pop()
    if name in seen:
        continue
    seen.add(name)
    todo += [(n, []) for n in requires(name, ex)]
print(",".join(sorted(seen)))
EOF
}

needs_torch() {  # do these extras pull torch?
  "$PYTHON" - "$REPO/services/$1/pyproject.toml" "$2" <<'EOF'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
reqs = [r for e in sys.argv[2].split(",") if e for r in project["optional-dependencies"][e]]
print("yes" if any(r.split("[")[0].strip().lower().startswith(("torch", "open_clip", "lpips", "fashionedit-tinymodels")) for r in reqs) else "no")
EOF
}

printf '%-28s %-8s %-8s %s\n' "service[extras]" "result" "seconds" "site-packages" >"$WORK/summary"
failures=0
for spec in "$@"; do
  service=${spec%%:*}
  extras=""
  [ "$spec" != "$service" ] && extras=${spec#*:}
  label="$service${extras:+[$extras]}"
  venv="$WORK/venv-$service"
  log="$WORK/$service.log"
  start=$(date +%s)
  echo "== $label"
  status=ok
  {
    "$PYTHON" -m venv --clear "$venv" &&
      if [ -n "$extras" ] && [ "$(needs_torch "$service" "$extras")" = yes ]; then
        # shellcheck disable=SC2086  # two requirements, split on purpose
        "$venv/bin/pip" install -q -c "$REPO/requirements.lock" $TORCH_PIN
      fi &&
      "$venv/bin/pip" install -q -c "$REPO/requirements.lock" -c "$constraints" "$SRC/services/$service${extras:+[$extras]}"
  } >"$log" 2>&1 || status="install-failed"
  if [ "$status" = ok ]; then
    torch_free=no
    [ -z "$extras" ] && torch_free=yes
    # Run from an empty directory: nothing from this checkout is importable except what pip installed.
    (cd "$WORK" && "$venv/bin/python" - "$service" "$(expected_dists "$service" "$extras")" "$torch_free" <<'EOF'
import importlib, importlib.metadata as md, importlib.util, sys
service, expected, torch_free = sys.argv[1], set(sys.argv[2].split(",")), sys.argv[3] == "yes"
module = importlib.import_module(f"fashionedit.services.{service}.service")
problems = []
installed = {d.metadata["Name"].lower() for d in md.distributions() if d.metadata["Name"].lower().startswith("fashionedit")}
if installed != expected:
    problems.append(f"fashionedit distributions installed {sorted(installed)}, declared {sorted(expected)}")
others = [s for s in ("generator", "editor", "analyzer", "scorer") if s != service and importlib.util.find_spec(f"fashionedit.services.{s}")]
if others:
    problems.append(f"other services importable: {others}")
loaded_torch = "torch" in sys.modules
if torch_free and (importlib.util.find_spec("torch") or loaded_torch):
    problems.append("torch is installed in a torch-free configuration")
print(f"imported {module.__name__}; torch {'imported' if loaded_torch else 'not imported'} at import time")
if problems:
    print("PROBLEMS: " + "; ".join(problems))
    sys.exit(1)
EOF
    ) >>"$log" 2>&1 || status="check-failed"
  fi
  seconds=$(($(date +%s) - start))
  size=$(du -sh "$venv" 2>/dev/null | cut -f1)
  printf '%-28s %-8s %-8s %s\n' "$label" "$status" "$seconds" "$size" >>"$WORK/summary"
  if [ "$status" != ok ]; then
    failures=$((failures + 1))
    tail -n 30 "$log"
  else
    tail -n 1 "$log"
  fi
  rm -rf "$venv"
done
echo
cat "$WORK/summary"
[ "$failures" -eq 0 ]

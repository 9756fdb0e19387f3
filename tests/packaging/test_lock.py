"""One lock for the whole workspace: every declared dependency is in it, and the venv was installed from it."""

from __future__ import annotations

import importlib.metadata

from packaging.utils import canonicalize_name

from tests.packaging.bento_tools import build_bentos
from tests.support.servers import REPO_ROOT


def test_every_declared_dependency_is_pinned_by_the_lock() -> None:
    pins = build_bentos.read_lock()
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"  # pinned together
    assert not [name for name in pins if name.startswith("fashionedit-")], "this repo's distributions never come from an index"
    assert build_bentos.lock_problems(pins) == []


def test_a_dependency_missing_from_the_lock_is_reported() -> None:
    pins = build_bentos.read_lock()
    without_openai = {name: version for name, version in pins.items() if name != "openai"}
    problems = build_bentos.lock_problems(without_openai)
    assert any("services/editor/pyproject.toml" in p and "openai" in p and "missing" in p for p in problems), problems
    too_old = {**pins, "diffusers": "0.20.0"}  # the services ask for diffusers>=0.30
    assert any("does not allow the locked diffusers==0.20.0" in p for p in build_bentos.lock_problems(too_old))


def test_the_venv_was_installed_from_the_lock() -> None:
    """scripts/setup.sh installs with `-c requirements.lock`: every locked package present has the locked version."""
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    locked = build_bentos.read_lock()
    drift = {name: (installed[name], version) for name, version in locked.items() if installed.get(name, version) != version}
    assert drift == {}, f"installed vs locked: {drift}; run scripts/setup.sh (or scripts/lock.sh after changing a dependency)"


def test_setup_installs_with_the_lock() -> None:
    setup = (REPO_ROOT / "scripts" / "setup.sh").read_text()
    installs = [line for line in setup.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs and all('"${LOCK[@]}"' in line for line in installs), installs
    assert "LOCK=(-c requirements.lock)" in setup

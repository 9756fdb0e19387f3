"""scripts/build_bentos.py, imported as a module (scripts/ is not a package)."""

from __future__ import annotations

import importlib.util
import sys

from tests.support.servers import REPO_ROOT

_spec = importlib.util.spec_from_file_location("build_bentos", REPO_ROOT / "scripts" / "build_bentos.py")
assert _spec and _spec.loader
build_bentos = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("build_bentos", build_bentos)
_spec.loader.exec_module(build_bentos)

"""Contracts and the client install and import in a clean venv without torch, diffusers or bentoml."""

from __future__ import annotations

import subprocess
import sys
import venv

import pytest

from tests.support.servers import REPO_ROOT

pytestmark = pytest.mark.slow

HEAVY = ("torch", "diffusers", "transformers", "bentoml", "open_clip_torch", "open-clip-torch")


def test_contracts_and_client_pull_in_no_heavy_packages(tmp_path) -> None:
    env_dir = tmp_path / "light"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # Build from copies so setuptools' build/ and egg-info never land in the source tree.
    import shutil

    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    targets, modules = [], []
    for folder, module in (("contracts", "fashionedit.contracts"), ("clients", "fashionedit.client")):
        if (REPO_ROOT / folder / "pyproject.toml").exists():
            shutil.copytree(REPO_ROOT / folder, tmp_path / folder, ignore=ignore)
            targets.append(str(tmp_path / folder))
            modules.append(module)
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *targets], check=True, timeout=600)

    installed = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze"], check=True, capture_output=True, text=True
    ).stdout.lower()
    names = {line.split("==")[0] for line in installed.splitlines()}
    assert not names & set(HEAVY), f"heavy packages installed: {sorted(names & set(HEAVY))}"

    probe = (
        "import sys, importlib\n"
        + "".join(f"importlib.import_module({m!r})\n" for m in modules)
        + (
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'diffusers', 'bentoml', 'open_clip')]\n"
            "assert not heavy, heavy\n"
            "import fashionedit, os\n"
            "site = os.path.dirname(os.path.dirname(fashionedit.__path__[0]))\n"
            "assert not any(os.path.exists(os.path.join(p, n)) for p in sys.path for n in ('contracts', 'services', 'clients') "
            "if p.endswith('site-packages'))\n"
        )
    )
    subprocess.run([python, "-c", probe], check=True, timeout=120)


def test_nothing_generic_lands_at_the_top_of_site_packages() -> None:
    """In the dev venv too: only the `fashionedit` namespace is ours."""
    import importlib.util

    for generic in ("contracts", "services", "clients", "tinymodels", "flats"):
        spec = importlib.util.find_spec(generic)
        assert spec is None or "site-packages" not in str(spec.origin or ""), f"top-level module {generic!r} is installed"
    assert sys.modules.get("fashionedit") is None or hasattr(sys.modules["fashionedit"], "__path__")

"""Build the FashionEdit Bentos with ``bentoml build`` (no Docker engine, no network needed).

Every Bento is declared in its service's pyproject.toml: ``[tool.bentoml.build]`` (BentoML's build options)
and ``[tool.fashionedit.bentos.<name>]`` (the extras it installs, the settings baked into its image). The
service declares its runtime image, resources and traffic (``fashionedit.services.common.bento``). For each
Bento this script fills a staging folder and runs ``bentoml build`` there:

- ``wheels/``: this repo's distributions the service needs, built from the checkout (they are not on PyPI);
- ``requirements.txt``: those wheels, then every third-party package the service and its extras need,
  pinned from ``requirements.lock`` (a package the lock lacks stops the build);
- ``bentofile.yaml``: the service's build options, the Bento's name and its settings (``envs``).

    python scripts/build_bentos.py                 # every Bento, into $BENTOML_HOME (default ~/bentoml)
    python scripts/build_bentos.py fashionedit-analyzer --version 0.1.0
    python scripts/build_bentos.py --list          # the declared Bentos
    bentoml containerize fashionedit-analyzer:latest -t fashionedit/analyzer:0.1.0    # where Docker runs

Run it with the workspace venv (scripts/setup.sh): the dependency tree is read from the installed
distributions, which setup.sh installed from the same lock (a version that differs from the lock stops it).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements.lock"
NEVER_SHIPPED = {"fashionedit-tinymodels"}  # the test-model builder stays out of every image


@dataclasses.dataclass(frozen=True)
class BentoSpec:
    name: str
    service_dir: Path
    distribution: str
    extras: tuple[str, ...]
    envs: dict[str, str]
    build_options: dict


def local_distributions() -> dict[str, Path]:
    """This repo's distributions: canonical name -> folder."""
    found = {}
    pyprojects = [
        REPO / "contracts/pyproject.toml",
        REPO / "clients/pyproject.toml",
        *sorted(REPO.glob("libs/*/pyproject.toml")),
        *sorted(REPO.glob("services/*/pyproject.toml")),
    ]
    for pyproject in pyprojects:
        if pyproject.is_file():
            found[canonicalize_name(tomllib.loads(pyproject.read_text())["project"]["name"])] = pyproject.parent
    return found


def declared_bentos() -> list[BentoSpec]:
    specs = []
    for pyproject in sorted(REPO.glob("services/*/pyproject.toml")):
        data = tomllib.loads(pyproject.read_text())
        build = data.get("tool", {}).get("bentoml", {}).get("build")
        for name, bento in data.get("tool", {}).get("fashionedit", {}).get("bentos", {}).items():
            if build is None:
                raise SystemExit(f"{pyproject.relative_to(REPO)}: [tool.fashionedit.bentos] without [tool.bentoml.build]")
            specs.append(
                BentoSpec(
                    name=name,
                    service_dir=pyproject.parent,
                    distribution=canonicalize_name(data["project"]["name"]),
                    extras=tuple(bento.get("extras", ())),
                    envs=dict(bento.get("envs", {})),
                    build_options=build,
                )
            )
    return specs


def declared_requirements() -> dict[str, list[Requirement]]:
    """Every third-party requirement this workspace declares (each distribution with all its extras, the
    test tools), by where it is declared: all of them must be satisfied by requirements.lock."""
    declared: dict[str, list[Requirement]] = {}
    for folder in local_distributions().values():
        project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
        extras = project.get("optional-dependencies", {}).values()
        lines = [*project.get("dependencies", []), *(line for extra in extras for line in extra)]
        declared[f"{folder.relative_to(REPO)}/pyproject.toml"] = [Requirement(line) for line in lines]
    dev = [line.split("#", 1)[0].strip() for line in (REPO / "requirements-dev.txt").read_text().splitlines()]
    declared["requirements-dev.txt"] = [Requirement(line) for line in dev if line and not line.startswith("-")]
    local = set(local_distributions())
    return {where: [r for r in reqs if canonicalize_name(r.name) not in local] for where, reqs in declared.items()}


def lock_problems(pins: dict[str, str]) -> list[str]:
    """Declared requirements that the lock lacks or pins outside their range."""
    problems = []
    for where, requirements in declared_requirements().items():
        for requirement in requirements:
            pinned = pins.get(canonicalize_name(requirement.name))
            if pinned is None:
                problems.append(f"{where}: {requirement} is missing from requirements.lock")
            elif not requirement.specifier.contains(pinned, prereleases=True):
                problems.append(f"{where}: {requirement} does not allow the locked {requirement.name}=={pinned}")
    return problems


def read_lock(path: Path = LOCK) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _local_requirements(folder: Path, extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    lines = list(project.get("dependencies", []))
    for extra in extras:
        try:
            lines += project.get("optional-dependencies", {})[extra]
        except KeyError:
            raise SystemExit(f"{folder.relative_to(REPO)}: no extra {extra!r}") from None
    requirements = [Requirement(line) for line in lines]
    return [r for r in requirements if r.marker is None or r.marker.evaluate({**default_environment(), "extra": ""})]


def _installed_requirements(name: str, extras: tuple[str, ...]) -> list[Requirement]:
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(f"{name} is not installed in this venv: run scripts/setup.sh") from None
    wanted = []
    for line in dist.requires or []:
        requirement = Requirement(line)
        if requirement.marker is None or any(
            requirement.marker.evaluate({**default_environment(), "extra": extra}) for extra in ("", *extras)
        ):
            wanted.append(requirement)
    return wanted


def dependency_closure(distribution: str, extras: tuple[str, ...], *, lock: Path = LOCK) -> tuple[list[str], dict[str, str]]:
    """This repo's distributions and the pinned third-party packages that ``distribution[extras]`` installs.

    Markers are evaluated for this interpreter (CPython 3.11 on Linux, as in the images).
    """
    local = local_distributions()
    pins = read_lock(lock)
    ours: list[str] = []
    third_party: dict[str, str] = {}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    todo = [(canonicalize_name(distribution), tuple(extras))]
    while todo:
        name, wanted_extras = todo.pop()
        if (name, wanted_extras) in seen:
            continue
        seen.add((name, wanted_extras))
        if name in local:
            if name not in ours:
                ours.append(name)
            requirements = _local_requirements(local[name], wanted_extras)
        else:
            if name not in pins:
                raise SystemExit(
                    f"{name} is needed by the {distribution} Bento but missing from requirements.lock: run scripts/lock.sh"
                )
            installed = importlib.metadata.version(name)
            if installed != pins[name]:
                raise SystemExit(f"{name}: {installed} installed, {pins[name]} in requirements.lock: run scripts/setup.sh")
            third_party[name] = pins[name]
            requirements = _installed_requirements(name, wanted_extras)
        for requirement in requirements:
            todo.append((canonicalize_name(requirement.name), tuple(sorted(requirement.extras))))
    return ours, dict(sorted(third_party.items()))


def build_wheels(distributions: list[str], out: Path) -> dict[str, Path]:
    """One wheel per distribution, built from copies of the checkout (no build/ or egg-info left behind)."""
    local = local_distributions()
    sources = Path(tempfile.mkdtemp(prefix="fashionedit-wheel-src-"))
    try:
        copies = []
        for name in distributions:
            copy = sources / name
            shutil.copytree(local[name], copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "Dockerfile*"))
            copies.append(str(copy))
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out)]
            + copies,
            check=True,
        )
    finally:
        shutil.rmtree(sources, ignore_errors=True)
    wheels = {}
    for wheel in out.glob("*.whl"):
        wheels[canonicalize_name(wheel.name.split("-")[0])] = wheel
    missing = set(distributions) - set(wheels)
    if missing:
        raise SystemExit(f"no wheel built for {sorted(missing)}")
    return wheels


def stage(spec: BentoSpec, wheels: dict[str, Path], folder: Path) -> None:
    ours, pinned = dependency_closure(spec.distribution, spec.extras)
    shipped = NEVER_SHIPPED & set(ours)
    if shipped:
        raise SystemExit(f"{spec.name} would ship {sorted(shipped)}: take it out of the Bento's extras")
    (folder / "wheels").mkdir(parents=True)
    extras = f"[{','.join(spec.extras)}]" if spec.extras else ""
    lines = [
        f"# {spec.name}: {spec.distribution}{extras}, written by scripts/build_bentos.py",
        "# This repo's distributions, as wheels in the Bento:",
    ]
    for name in ours:
        shutil.copy2(wheels[name], folder / "wheels" / wheels[name].name)
        lines.append(f"./wheels/{wheels[name].name}")
    lines.append("# Everything else, pinned from requirements.lock:")
    lines += [f"{name}=={version}" for name, version in pinned.items()]
    (folder / "requirements.txt").write_text("\n".join(lines) + "\n")
    envs = [*spec.build_options.get("envs", []), *({"name": k, "value": v} for k, v in spec.envs.items())]
    bentofile = {**spec.build_options, "name": spec.name, "envs": envs}
    (folder / "bentofile.yaml").write_text(yaml.safe_dump(bentofile, sort_keys=False))


def build(spec: BentoSpec, folder: Path, *, version: str | None) -> str:
    command = [sys.executable, "-m", "bentoml", "build", str(folder), "-f", str(folder / "bentofile.yaml"), "--output", "tag"]
    if version:
        command += ["--version", version]
    # The Bento's settings are in force while its service is imported: they pick its image and resources.
    env = {**os.environ, **spec.envs, "BENTOML_DO_NOT_TRACK": "True"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=folder)
    if result.returncode != 0:
        raise SystemExit(f"bentoml build {spec.name} failed:\n{result.stdout}\n{result.stderr}")
    tags = [line.removeprefix("__tag__:") for line in result.stdout.splitlines() if line.startswith("__tag__:")]
    return tags[-1] if tags else result.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="Bentos to build (default: all)")
    parser.add_argument("--version", help="Bento version (default: generated by BentoML)")
    parser.add_argument("--list", action="store_true", help="list the declared Bentos and exit")
    args = parser.parse_args(argv)
    specs = declared_bentos()
    if args.list:
        for spec in specs:
            extras = f"[{','.join(spec.extras)}]" if spec.extras else ""
            settings = " ".join(f"{k}={v}" for k, v in spec.envs.items())
            print(f"{spec.name}\t{spec.service_dir.relative_to(REPO)}{extras}\t{settings}")
        return 0
    unknown = set(args.names) - {spec.name for spec in specs}
    if unknown:
        parser.error(f"unknown Bento(s) {sorted(unknown)}; declared: {[spec.name for spec in specs]}")
    chosen = [spec for spec in specs if not args.names or spec.name in args.names]
    with tempfile.TemporaryDirectory(prefix="fashionedit-bentos-") as tmp:
        work = Path(tmp)
        needed = sorted({name for spec in chosen for name in dependency_closure(spec.distribution, spec.extras)[0]})
        wheels = build_wheels(needed, work / "wheels")
        for spec in chosen:
            folder = work / spec.name
            stage(spec, wheels, folder)
            print(build(spec, folder, version=args.version), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

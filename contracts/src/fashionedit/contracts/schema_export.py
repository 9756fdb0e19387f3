"""Export the contracts as JSON Schema files for non-Python callers.

``python -m fashionedit.contracts.schema_export [DIR]`` writes one file per
model; ``--check`` exits non-zero when the files on disk differ (used by CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import BaseModel

from . import (
    AnalyzeRequest,
    AnalyzeResponse,
    BenchmarkReport,
    DatasetManifest,
    DatasetSample,
    EditRequest,
    EditResponse,
    ErrorResponse,
    GarmentAttributes,
    GenerateRequest,
    GenerateResponse,
    RoundRecord,
    ScoreRequest,
    ScoreResponse,
    ServiceInfo,
)

EXPORTED: dict[str, type[BaseModel]] = {
    "GenerateRequest": GenerateRequest,
    "GenerateResponse": GenerateResponse,
    "EditRequest": EditRequest,
    "EditResponse": EditResponse,
    "AnalyzeRequest": AnalyzeRequest,
    "AnalyzeResponse": AnalyzeResponse,
    "ScoreRequest": ScoreRequest,
    "ScoreResponse": ScoreResponse,
    "ErrorResponse": ErrorResponse,
    "ServiceInfo": ServiceInfo,
    "DatasetManifest": DatasetManifest,
    "DatasetSample": DatasetSample,
    "RoundRecord": RoundRecord,
    "BenchmarkReport": BenchmarkReport,
    "GarmentAttributes": GarmentAttributes,
}


def register(name: str, model: type[BaseModel]) -> None:
    """Let later modules (e.g. garment attributes) add their models to the export."""
    EXPORTED[name] = model


def render_all() -> dict[str, str]:
    _load_optional_models()
    out = {}
    for name, model in sorted(EXPORTED.items()):
        schema = model.model_json_schema(mode="serialization" if name.endswith("Response") else "validation")
        schema["$id"] = f"https://fashionedit.dev/schemas/{name}.json"
        out[f"{name}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def _load_optional_models() -> None:
    import importlib
    import pkgutil

    import fashionedit.contracts as pkg

    # Every contracts module registers itself on import; import them all.
    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"fashionedit.contracts.{info.name}")


def default_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "schemas"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", nargs="?", type=Path, default=default_dir())
    parser.add_argument("--check", action="store_true", help="fail if the files differ from the models")
    args = parser.parse_args(argv)
    rendered = render_all()
    directory: Path = args.directory
    if args.check:
        stale = [
            name for name, text in rendered.items() if not (directory / name).is_file() or (directory / name).read_text() != text
        ]
        extra = sorted(p.name for p in directory.glob("*.json") if p.name not in rendered) if directory.is_dir() else []
        if stale or extra:
            print(f"schemas out of date: {stale + extra}; run python -m fashionedit.contracts.schema_export", file=sys.stderr)
            return 1
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (directory / name).write_text(text)
    for old in directory.glob("*.json"):
        if old.name not in rendered:
            old.unlink()
    print(f"wrote {len(rendered)} schemas to {directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

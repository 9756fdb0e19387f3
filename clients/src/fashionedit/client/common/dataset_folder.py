"""Reading and writing a FashionEdit dataset folder (``manifest.json`` + ``samples.jsonl`` + images)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fashionedit.contracts import DatasetManifest, DatasetSample
from fashionedit.contracts.files import atomic_write_text

MANIFEST_FILE = "manifest.json"


def write_dataset(root: str | Path, manifest: DatasetManifest, samples: Iterable[DatasetSample]) -> Path:
    """Write samples (sorted by id) then the header; the header last, so a folder with one is complete."""
    root = Path(root)
    ordered = sorted(samples, key=lambda s: s.id)
    atomic_write_text(root / manifest.samples_file, "".join(s.model_dump_json(exclude_none=True) + "\n" for s in ordered))
    manifest = manifest.model_copy(update={"num_samples": len(ordered)})
    return atomic_write_text(root / MANIFEST_FILE, manifest.model_dump_json(indent=2) + "\n")


@dataclass
class Dataset:
    root: Path
    manifest: DatasetManifest
    samples: list[DatasetSample]

    def path(self, relative: str) -> Path:
        return self.root / relative

    def split(self, *names: str) -> list[DatasetSample]:
        return [s for s in self.samples if s.split in names]

    def by_id(self) -> dict[str, DatasetSample]:
        return {s.id: s for s in self.samples}

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for name in (MANIFEST_FILE, self.manifest.samples_file):
            digest.update((self.root / name).read_bytes())
        return digest.hexdigest()


def load_dataset(root: str | Path) -> Dataset:
    root = Path(root)
    header = root / MANIFEST_FILE
    if not header.is_file():
        raise FileNotFoundError(f"{header} not found: build a dataset with `fashionedit dataset build` first")
    manifest = DatasetManifest.model_validate_json(header.read_text())
    samples = []
    with open(root / manifest.samples_file, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    samples.append(DatasetSample.model_validate_json(line))
                except ValueError as exc:
                    raise ValueError(f"{root / manifest.samples_file} line {number} is not a DatasetSample: {exc}") from exc
    samples.sort(key=lambda s: s.id)
    return Dataset(root, manifest, samples)

"""Reading a DeepFashion-MultiModal folder: ``captions.json`` + ``images/``.

Image names follow ``{MEN|WOMEN}-{Category}-id_{8 digits}-{2-digit outfit}_{view#}_{view}.jpg``.
Everything is listed in sorted order (the published scripts took ``os.walk`` order).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

NAME_RE = re.compile(
    r"^(?P<gender>MEN|WOMEN)-(?P<category>[A-Za-z_]+)-id_(?P<id>\d{8})-(?P<outfit>\d{2})_(?P<view_no>\d+)_(?P<view>[a-z]+)$"
)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class SourceItem:
    id: str  # the image stem
    image: Path
    caption: str


def parse_name(stem: str) -> dict[str, str] | None:
    """The parts of a DeepFashion-MultiModal image stem, or None when it does not follow the scheme."""
    match = NAME_RE.match(stem)
    return match.groupdict() if match else None


def scan_source(folder: str | Path, *, strict_names: bool = False) -> tuple[list[SourceItem], dict[str, int]]:
    """Items with both an image and a caption, sorted by id, and counts of what was skipped and why."""
    root = Path(folder)
    captions_path = root / "captions.json"
    if not captions_path.is_file():
        raise FileNotFoundError(f"{captions_path} not found: a DeepFashion-MultiModal folder has captions.json and images/")
    images_dir = root / "images"
    if not images_dir.is_dir():
        raise FileNotFoundError(f"{images_dir} not found: a DeepFashion-MultiModal folder has captions.json and images/")
    try:
        captions = json.loads(captions_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{captions_path} is not valid JSON: {exc}") from exc
    if not isinstance(captions, dict):
        raise ValueError(f'{captions_path} must be an object {{"<name>.jpg": "<caption>"}}')
    by_stem = {Path(name).stem: str(text) for name, text in captions.items()}
    images = {p.stem: p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()}
    skipped = {"no_caption": 0, "no_image": 0, "empty_caption": 0, "bad_name": 0}
    items = []
    for stem in sorted(images):
        caption = by_stem.get(stem)
        if caption is None:
            skipped["no_caption"] += 1
            continue
        if not caption.strip():
            skipped["empty_caption"] += 1
            continue
        if strict_names and parse_name(stem) is None:
            skipped["bad_name"] += 1
            continue
        items.append(SourceItem(stem, images[stem], caption.strip()))
    skipped["no_image"] = sum(1 for stem in by_stem if stem not in images)
    return items, {k: v for k, v in skipped.items() if v}

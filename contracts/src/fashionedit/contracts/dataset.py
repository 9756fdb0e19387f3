"""The FashionEdit manifest: one JSON header plus one JSONL line per sample, paths relative to the dataset root."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import Field

from .boxes import Box2D
from .common import Contract, ModelInfo

Split = Literal["train", "val"]
MANIFEST_VERSION = 1


class DatasetDifference(Contract):
    index: int = Field(ge=1, description="1-based: round r of a benchmark uses difference r")
    description: str
    box_2d: Box2D
    crop: str | None = Field(default=None, description="Path of the reference crop, relative to the dataset root")


class DatasetSample(Contract):
    id: str = Field(description="DeepFashion-MultiModal image stem, e.g. 'MEN-Denim-id_00000080-01_7_additional'")
    split: Split
    caption: str
    original: str = Field(description="Resized ground-truth image, relative path")
    draft: str = Field(description="Generated draft, relative path")
    draft_seed: int | None = None
    draft_clip: float | None = Field(default=None, description="Draft vs original CLIP x100, as used for selection")
    differences: list[DatasetDifference] = Field(default_factory=list)


class SelectionInfo(Contract):
    method: Literal["top_n", "list", "all"]
    top_n: int | None = None
    list_path: str | None = None
    list_sha256: str | None = None
    candidates: int = Field(ge=0)
    kept: int = Field(ge=0)


class SplitInfo(Contract):
    seed: int
    train: int
    val: int
    method: str = "sorted ids, shuffled with random.Random(seed), first `val` are val"


class DatasetManifest(Contract):
    version: int = MANIFEST_VERSION
    name: str = "FashionEdit"
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    source: str = Field(description="DeepFashion-MultiModal folder the dataset was built from (not redistributed)")
    image_size: int = Field(description="Side of the square images the originals and drafts were resized to")
    selection: SelectionInfo
    split: SplitInfo
    generator: ModelInfo | None = None
    analyzer: ModelInfo | None = None
    scorer: ModelInfo | None = None
    offline: bool = Field(description="True when built on the offline profile: not the paper's dataset")
    samples_file: str = "samples.jsonl"
    num_samples: int = Field(ge=0)

"""The FashionEdit manifest: one JSON header plus one JSONL line per sample, paths relative to the dataset root.

Layout written by the dataset builder (``fashionedit dataset build``)::

    <root>/manifest.json        DatasetManifest (the header)
    <root>/samples.jsonl        one DatasetSample per line, sorted by id
    <root>/originals/<id>.png   ground truth, resized
    <root>/drafts/<id>.png      generated draft, resized
    <root>/crops/<id>_<r>.png   reference crop of difference r, cut from the original
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from .boxes import Box2D
from .common import Contract, ModelInfo

Split = Literal["train", "val"]
MANIFEST_VERSION = 1

# The paper's sizes: 11,546 drafts kept, split 10,546 train / 1,000 val.
PAPER_KEPT = 11_546
PAPER_VAL = 1_000
PAPER_TRAIN = PAPER_KEPT - PAPER_VAL


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
    draft_psnr: float | None = Field(default=None, description="Draft vs original PSNR (dB) from the selection scoring")
    published_clip: float | None = Field(
        default=None, description="The score the selection list gave this image (list selection only)"
    )
    differences: list[DatasetDifference] = Field(default_factory=list)


class SelectionInfo(Contract):
    method: Literal["top_n", "list", "all"]
    top_n: int | None = None
    rank_by: Literal["clip", "psnr"] | None = Field(default=None, description="Score ranked for top_n (the paper: clip)")
    list_path: str | None = None
    list_sha256: str | None = None
    list_entries: int | None = Field(default=None, description="Entries in the selection list")
    list_missing: int = Field(default=0, ge=0, description="List entries with no image or caption in the source folder")
    candidates: int = Field(ge=0)
    kept: int = Field(ge=0)
    dropped: dict[str, int] = Field(default_factory=dict, description="Selected samples left out after selection, by reason")


class SplitInfo(Contract):
    seed: int
    train: int
    val: int
    method: str = "sorted ids, shuffled with random.Random(seed), first `val` are val"
    rule: str = Field(default="", description="How the val size was chosen (paper 10,546/1,000, or the proportional rule)")


class DatasetManifest(Contract):
    version: int = MANIFEST_VERSION
    name: str = "FashionEdit"
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str = Field(description="DeepFashion-MultiModal folder the dataset was built from (not redistributed)")
    image_size: int = Field(description="Side of the square images the originals and drafts were resized to")
    resize_mode: Literal["pad", "stretch"] = Field(
        default="pad", description="pad: keep the aspect ratio on a white square; stretch: squash to the square"
    )
    selection: SelectionInfo
    split: SplitInfo
    drafts: dict[str, Any] = Field(
        default_factory=dict,
        description="How drafts were made: generator settings (steps, guidance, size, seeds) or the folder they came from",
    )
    k: int = Field(default=3, ge=1, description="Differences per sample (the paper: 3)")
    differences_source: str = Field(
        default="analyzer", description="'analyzer' (the service), or the ground-truth file the differences were read from"
    )
    generator: ModelInfo | None = None
    analyzer: ModelInfo | None = None
    scorer: ModelInfo | None = None
    offline: bool = Field(description="True when built on the offline profile: not the paper's dataset")
    samples_file: str = "samples.jsonl"
    num_samples: int = Field(ge=0)

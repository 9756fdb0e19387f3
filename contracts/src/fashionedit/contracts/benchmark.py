"""Benchmark records (one per item, method and round) and the Table 1 report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from .common import Contract, ModelInfo
from .score import PairScore

MethodFamily = Literal["SD2", "SD3", "Vanilla", "BUG", "init"]
ClipStatus = Literal["ok", "unavailable", "random_weights", "no_data"]

OFFLINE_LABEL = "offline profile"
CLIP_UNAVAILABLE_TEXT = "n/a — CLIP weights not configured"
CLIP_RANDOM_TEXT = "n/a — random CLIP weights (test only, not a CLIP score)"


class MethodSpec(Contract):
    """A row of Table 1: ``Vanilla(2)`` is family Vanilla, rounds 2."""

    family: MethodFamily
    rounds: int = Field(default=0, ge=0, le=10)

    @property
    def label(self) -> str:
        return f"{self.family}({self.rounds})" if self.family in ("Vanilla", "BUG") else self.family

    @property
    def prompt(self) -> Literal["text", "text+image"]:
        return "text+image" if self.family == "BUG" else "text"


class RoundRecord(Contract):
    """One item after one editing round (round 0 is the draft), persisted as soon as it finishes."""

    item_id: str
    family: MethodFamily
    round: int = Field(ge=0)
    split: str | None = Field(default=None, description="Dataset split of the item")
    instruction: str | None = None
    reference: str | None = Field(default=None, description="Reference crop path (BUG rounds)")
    output: str | None = Field(default=None, description="Output image path, relative to the run folder")
    prompt: str | None = Field(default=None, description="Exact prompt the editor sent")
    scores: PairScore | None = None
    clip_status: ClipStatus = Field(default="no_data", description="Whether scores.clip is a CLIP score")
    clip_note: str | None = Field(default=None, description="The scorer's reason when CLIP is unavailable")
    model: ModelInfo | None = Field(default=None, description="Model that produced the output (editor or generator)")
    status: Literal["ok", "failed"] = "ok"
    carried: bool = Field(default=False, description="No difference for this round: the previous round's output, unchanged")
    error: str | None = None
    attempts: int = 1
    elapsed_ms: float | None = None
    finished_at: datetime | None = None


class Table1Row(Contract):
    method: str
    prompt: Literal["text", "text+image"]
    split: str
    n: int = Field(description="Items scored for this row")
    n_failed: int = 0
    n_expected: int | None = Field(default=None, description="Items the row should have (n + failed + not yet run)")
    clip: float | None = Field(default=None, description="Mean CLIP cosine x100")
    clip_star: float | None = Field(default=None, description="Percent with cosine > threshold")
    clip_status: ClipStatus = "no_data"
    psnr: float | None = None
    model: str | None = Field(default=None, description="Backend and model behind the row's images")
    note: str | None = None


class RunMetadata(Contract):
    run_id: str
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    dataset: str
    manifest_sha256: str | None = None
    seed: int
    concurrency: int
    clip_threshold: float
    config: dict[str, Any] = Field(default_factory=dict)
    services: dict[str, ModelInfo] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    offline: bool
    resumed: list[datetime] = Field(default_factory=list, description="When the run was resumed after an interruption")


class BenchmarkReport(Contract):
    metadata: RunMetadata
    rows: list[Table1Row]
    label: str = Field(description="'offline profile' or the models used; shown wherever the table is")
    clip_note: str | None = Field(default=None, description="Why the CLIP columns are n/a, when they are")
    counts: dict[str, int] = Field(default_factory=dict, description="Records by status")
    notes: list[str] = Field(default_factory=list, description="How the dataset was made, and anything else a reader needs")

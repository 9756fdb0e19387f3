"""Image pairs to CLIP, CLIP*, PSNR (+ SSIM, LPIPS), as the paper's evaluation computes them."""

from __future__ import annotations

from enum import Enum

from pydantic import Field, model_validator

from .common import Contract, ModelInfo, Timings, WeightsIdentity
from .images import ImagePayload

MAX_PAIRS_PER_REQUEST = 256
DEFAULT_CLIP_THRESHOLD = 0.90


class Metric(str, Enum):
    CLIP = "clip"
    PSNR = "psnr"
    SSIM = "ssim"
    LPIPS = "lpips"


class ScorePair(Contract):
    id: str | None = Field(default=None, max_length=512)
    generated: ImagePayload
    reference: ImagePayload


class ScoreRequest(Contract):
    pairs: list[ScorePair] = Field(min_length=1, max_length=MAX_PAIRS_PER_REQUEST)
    metrics: list[Metric] = Field(default_factory=lambda: [Metric.CLIP, Metric.PSNR], min_length=1)
    clip_threshold: float = Field(
        default=DEFAULT_CLIP_THRESHOLD, gt=0.0, lt=1.0, description="CLIP* counts cosines strictly above this"
    )

    @model_validator(mode="after")
    def _unique_metrics(self) -> ScoreRequest:
        self.metrics = list(dict.fromkeys(self.metrics))
        return self


class PairScore(Contract):
    id: str | None = None
    clip: float | None = Field(default=None, description="Cosine x 100")
    clip_cosine: float | None = None
    above_threshold: bool | None = Field(default=None, description="cosine > clip_threshold (counts toward CLIP*)")
    psnr: float | None = Field(default=None, description="dB, 256x256 bilinear, uint8, peak 255")
    ssim: float | None = None
    lpips: float | None = None
    identical: bool | None = Field(
        default=None, description="The two images are pixel-identical at 256x256 (MSE 0); see psnr_rule"
    )


class ScoreAggregate(Contract):
    n: int
    clip: float | None = Field(default=None, description="Mean cosine x 100")
    clip_star: float | None = Field(default=None, description="Percent of pairs with cosine > threshold")
    psnr: float | None = None
    ssim: float | None = None
    lpips: float | None = None
    clip_n: int | None = Field(default=None, description="Pairs in the CLIP mean and the CLIP* denominator")
    psnr_n: int | None = Field(
        default=None, description="Pairs in the mean PSNR (fewer than n only when psnr_rule excludes identical pairs)"
    )


class MetricStatus(Contract):
    metric: Metric
    available: bool
    reason: str | None = None
    weights: WeightsIdentity | None = Field(default=None, description="Weights behind a learned metric (CLIP, LPIPS)")
    random_weights: bool = Field(default=False, description="True when those weights are random (tests only): not a model score")


class ScoreResponse(Contract):
    scores: list[PairScore]
    aggregate: ScoreAggregate
    metrics: list[MetricStatus] = Field(description="Which requested metrics were computed, and why not where not")
    clip_threshold: float
    psnr_rule: str = Field(description="How identical images are scored, so no inf reaches a mean")
    model: ModelInfo
    timings: Timings

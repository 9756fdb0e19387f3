"""Pydantic v2 contracts shared by the FashionEdit services and client.

Importing this package needs only pydantic and Pillow (no torch, no bentoml).
"""

from .analyze import PAPER_ANALYZE_PROMPT, AnalyzeRequest, AnalyzeResponse, Difference
from .benchmark import BenchmarkReport, MethodSpec, RoundRecord, RunMetadata, Table1Row
from .boxes import Box2D, BoxConvention, PixelBox, Repair, RepairCode, convert_to_box2d_values, repair_box
from .common import (
    ErrorBody,
    ErrorDetail,
    ErrorResponse,
    Health,
    InfoRequest,
    ModelInfo,
    ServiceInfo,
    Timings,
    Usage,
    WeightsIdentity,
)
from .dataset import DatasetDifference, DatasetManifest, DatasetSample, SelectionInfo, SplitInfo
from .edit import BUG_PROMPT, VANILLA_PROMPT, EditMode, EditRequest, EditResponse
from .garment import (
    Belt,
    ButtonPlacement,
    Buttons,
    ColorName,
    Fabric,
    GarmentAttributes,
    GraphicSize,
    HemStyle,
    LowerGarment,
    LowerLength,
    LowerType,
    Neckline,
    Pattern,
    PocketKind,
    PocketPlacement,
    Pockets,
    SleeveLength,
    UpperGarment,
    UpperType,
    Wearer,
)
from .generate import GeneratedImage, GenerateRequest, GenerateResponse, PromptTruncation
from .images import ImageDecodeError, ImageLimits, ImagePayload, decode_image_bytes, encode_image, image_payload, to_rgb
from .score import Metric, MetricStatus, PairScore, ScoreAggregate, ScorePair, ScoreRequest, ScoreResponse

__all__ = [name for name in dir() if not name.startswith("_")]

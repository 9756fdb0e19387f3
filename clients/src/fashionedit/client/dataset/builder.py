"""Build a FashionEdit dataset from a DeepFashion-MultiModal folder through the services.

Stages (each item's result is persisted as it finishes, under ``<out>/.work``, so a rerun of the same
build resumes where it stopped and never redoes finished work):

1. **drafts**: the generator draws each caption with the paper's settings (28 steps, guidance 7.0,
   negative prompt "", 1024x1024), a seed derived from the build seed and the image id; or drafts
   are taken from an existing folder (``drafts_from``, ``<stem>.png``);
2. **scores**: the scorer compares each draft with its original (CLIP, PSNR);
3. **selection**: the top N by CLIP (the paper kept 11,546), or a published list in the
   ``captions_top.json`` format, or all;
4. **analysis**: kept originals and drafts are resized to ``image_size`` squares, and the analyzer
   finds the top-k differences (original = image 1, draft = image 2) with crops cut from the original;
5. **split and manifest**: a seeded split of the *selection* (10,546/1,000, or the same proportion for fewer
   samples) and ``manifest.json`` + ``samples.jsonl``. The split is drawn before anything is dropped, so a
   published list keeps the paper's 10,546/1,000: short items (fewer than k differences) are kept by default
   with a list, and an item that has to be dropped leaves its split one short, reported in the manifest's
   ``split.rule`` and ``selection.dropped``, never silently re-drawn.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from fashionedit.contracts import (
    DatasetDifference,
    DatasetManifest,
    DatasetSample,
    ImagePayload,
    ModelInfo,
    SelectionInfo,
    SplitInfo,
)
from fashionedit.contracts.dataset import PAPER_KEPT
from fashionedit.contracts.files import atomic_write_bytes, atomic_write_text

from ..bundle import AsyncFashionEditClient
from ..common.dataset_folder import write_dataset
from ..common.folder_lock import claim_output_folder
from ..common.jsonl import JsonlLog
from ..common.progress import NoProgress, Progress
from ..common.work import AttemptsExhausted, WorkPool, call_with_retries, describe_error
from ..settings import ClientSettings
from .deepfashion import SourceItem, scan_source
from .images import ResizeMode, crop_png, square_box, square_png
from .selection import PROPORTIONAL_RULE, default_val_size, load_selection_list, sha256_file, split_ids, top_n

WORK_DIR = ".work"


class BuildConfig(BaseModel):
    """Everything that decides a build's content; a resumed build must use the same values."""

    source: Path = Field(description="DeepFashion-MultiModal folder (captions.json + images/)")
    out: Path = Field(description="Dataset folder to write")
    selection: Literal["top_n", "list", "all"] = "top_n"
    top_n: int = Field(default=PAPER_KEPT, ge=1, description="Drafts kept by top_n (the paper: 11,546)")
    rank_by: Literal["clip", "psnr"] = Field(default="clip", description="Score top_n ranks by (the paper: clip)")
    selection_list: Path | None = Field(default=None, description="A list in the captions_top.json format (selection=list)")
    limit: int | None = Field(default=None, ge=1, description="Only the first N candidates in sorted order (trial builds)")
    drafts_from: Path | None = Field(
        default=None, description="Take drafts (<stem>.png) from this folder instead of generating them"
    )
    draft_size: int = Field(default=1024, ge=64, le=2048, description="Generated draft width and height (the paper: 1024)")
    steps: int = Field(default=28, ge=1, le=150)
    guidance: float = Field(default=7.0, ge=0.0, le=30.0)
    negative_prompt: str = ""
    image_size: int = Field(default=1024, ge=32, le=4096, description="Side of the square originals and drafts in the dataset")
    resize_mode: ResizeMode = "pad"
    k: int = Field(default=3, ge=1, le=10, description="Differences per sample (the paper: 3)")
    differences_from: Path | None = Field(
        default=None,
        description="Read each sample's differences from a ground-truth JSONL (lines with id and differences[index, description, "
        "box_2d] on the original, e.g. fashionedit.flats' ground_truth.jsonl) instead of calling the analyzer; crops are cut "
        "here",
    )
    require_k: bool | None = Field(
        default=None,
        description="Leave out samples for which the analyzer found fewer than k differences. Default: keep them with "
        "selection=list (the published list's split stays 10,546/1,000; the runner's --missing-difference decides their "
        "later rounds), leave them out otherwise",
    )
    seed: int = Field(default=0, ge=0, description="Draft seeds derive from it and the image id")
    split_seed: int = Field(default=0, ge=0)
    val_size: int | None = Field(default=None, ge=0, description="Val samples; default 1,000 of 11,546 or the same proportion")
    concurrency: int = Field(default=8, ge=1, le=1024)
    item_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Tries per item and stage after a local fault (file I/O); a service error is final (its retries are done)",
    )

    def content_key(self) -> dict[str, Any]:
        """The fields whose change makes earlier work in ``.work`` invalid."""
        return {
            "source": str(self.source.resolve()),
            "drafts_from": str(self.drafts_from.resolve()) if self.drafts_from else None,
            "draft_size": self.draft_size,
            "steps": self.steps,
            "guidance": self.guidance,
            "negative_prompt": self.negative_prompt,
            "seed": self.seed,
            "image_size": self.image_size,
            "resize_mode": self.resize_mode,
            "k": self.k,
            "differences_from": str(self.differences_from.resolve()) if self.differences_from else None,
        }


def draft_seed(seed: int, item_id: str) -> int:
    """Per-image seed: independent of order and of which other images are built."""
    return zlib.crc32(f"{seed}:{item_id}".encode()) & 0x7FFFFFFF


class DraftRecord(BaseModel):
    id: str
    seed: int | None = None
    source: str


class ScoreRecord(BaseModel):
    id: str
    clip: float | None = None
    clip_status: str = "no_data"
    psnr: float | None = None


class AnalysisRecord(BaseModel):
    id: str
    differences: list[DatasetDifference]


class ErrorRecord(BaseModel):
    id: str
    stage: str
    error: str
    attempts: int


class BuildResult(BaseModel):
    out: Path
    manifest: DatasetManifest
    failed: dict[str, int] = Field(default_factory=dict, description="Items that failed, by stage (see .work/errors.jsonl)")


class BuildConfigMismatch(ValueError):
    pass


class DatasetBuilder:
    def __init__(self, config: BuildConfig, settings: ClientSettings | None = None, *, progress: Progress | None = None) -> None:
        self.config = config
        self.settings = settings or ClientSettings()
        self.progress = progress or NoProgress()
        self.out = config.out
        self.work = config.out / WORK_DIR
        self.drafts_log = JsonlLog(self.work / "drafts.jsonl")
        self.scores_log = JsonlLog(self.work / "scores.jsonl")
        self.analysis_log = JsonlLog(self.work / "analysis.jsonl")
        self.errors_log = JsonlLog(self.work / "errors.jsonl")
        self.failed: dict[str, int] = {}

    # -- bookkeeping -------------------------------------------------------------------------------
    def _check_config(self) -> None:
        key_path = self.work / "config.json"
        key = self.config.content_key()
        if key_path.exists():
            previous = json.loads(key_path.read_text())
            changed = sorted(k for k in key if previous.get(k) != key[k])
            if changed:
                raise BuildConfigMismatch(
                    f"{self.out} holds a build made with other settings ({', '.join(changed)} differ); "
                    f"use another --out, or delete {self.work} to start over"
                )
        else:
            atomic_write_text(key_path, json.dumps(key, indent=2, sort_keys=True) + "\n")

    def _fail(self, item_id: str, stage: str, exc: AttemptsExhausted) -> None:
        self.failed[stage] = self.failed.get(stage, 0) + 1
        self.errors_log.append(ErrorRecord(id=item_id, stage=stage, error=describe_error(exc.error), attempts=exc.attempts))
        self.progress.advance(failed=True)

    def raw_draft_path(self, item_id: str) -> Path:
        return self.work / "drafts" / f"{item_id}.png"

    # -- stages ----------------------------------------------------------------------------------------
    async def _drafts(self, client: AsyncFashionEditClient, items: list[SourceItem]) -> None:
        done = {r.id for r in self.drafts_log.read(DraftRecord)}
        todo = [item for item in items if item.id not in done]
        self.progress.start(len(todo), "drafts")
        pool = WorkPool(self.config.concurrency)
        cfg = self.config

        for item in todo:

            async def step(_: WorkPool, item: SourceItem = item) -> None:
                if cfg.drafts_from is not None:
                    source = cfg.drafts_from / f"{item.id}.png"
                    if not source.is_file():
                        self._fail(item.id, "drafts", AttemptsExhausted(FileNotFoundError(f"no draft {source}"), 1))
                        return
                    atomic_write_bytes(self.raw_draft_path(item.id), source.read_bytes())
                    self.drafts_log.append(DraftRecord(id=item.id, source=str(source)))
                    self.progress.advance()
                    return
                seed = draft_seed(cfg.seed, item.id)

                async def call() -> bytes:
                    response = await client.generator.generate(
                        prompt=item.caption,
                        negative_prompt=cfg.negative_prompt,
                        seed=seed,
                        width=cfg.draft_size,
                        height=cfg.draft_size,
                        steps=cfg.steps,
                        guidance=cfg.guidance,
                    )
                    return response.images[0].image.to_bytes()

                try:
                    data, _attempts = await call_with_retries(call, cfg.item_attempts)
                except AttemptsExhausted as exc:
                    self._fail(item.id, "drafts", exc)
                    return
                atomic_write_bytes(self.raw_draft_path(item.id), data)
                self.drafts_log.append(DraftRecord(id=item.id, seed=seed, source="generator"))
                self.progress.advance()

            pool.submit(item.id, step)
        await pool.run()

    async def _scores(self, client: AsyncFashionEditClient, items: list[SourceItem]) -> None:
        drafted = {r.id for r in self.drafts_log.read(DraftRecord)}
        done = {r.id for r in self.scores_log.read(ScoreRecord)}
        todo = [item for item in items if item.id in drafted and item.id not in done]
        self.progress.start(len(todo), "scores")
        pool = WorkPool(self.config.concurrency)

        for item in todo:

            async def step(_: WorkPool, item: SourceItem = item) -> None:
                async def call() -> ScoreRecord:
                    response = await client.scorer.score(
                        [(item.id, ImagePayload.from_path(self.raw_draft_path(item.id)), ImagePayload.from_path(item.image))],
                        metrics=["clip", "psnr"],
                    )
                    return ScoreRecord(id=item.id, **score_fields(response))

                try:
                    record, _attempts = await call_with_retries(call, self.config.item_attempts)
                except AttemptsExhausted as exc:
                    self._fail(item.id, "scores", exc)
                    return
                self.scores_log.append(record)
                self.progress.advance()

            pool.submit(item.id, step)
        await pool.run()

    async def _analysis(self, client: AsyncFashionEditClient, items: list[SourceItem]) -> None:
        done = {r.id for r in self.analysis_log.read(AnalysisRecord)}
        todo = [item for item in items if item.id not in done]
        self.progress.start(len(todo), "analysis")
        pool = WorkPool(self.config.concurrency)
        cfg = self.config
        truth = load_ground_truth(cfg.differences_from) if cfg.differences_from else None

        for item in todo:

            async def step(_: WorkPool, item: SourceItem = item) -> None:
                original = square_png(item.image, cfg.image_size, cfg.resize_mode)
                draft = square_png(self.raw_draft_path(item.id), cfg.image_size, cfg.resize_mode)
                atomic_write_bytes(self.out / "originals" / f"{item.id}.png", original)
                atomic_write_bytes(self.out / "drafts" / f"{item.id}.png", draft)
                if truth is not None:
                    self._truth_differences(item, original, truth.get(item.id, []))
                    return

                async def call() -> Any:
                    return await client.analyzer.analyze(
                        original=ImagePayload.from_bytes(original),
                        generated=ImagePayload.from_bytes(draft),
                        k=cfg.k,
                        include_crops=True,
                    )

                try:
                    response, _attempts = await call_with_retries(call, cfg.item_attempts)
                except AttemptsExhausted as exc:
                    self._fail(item.id, "analysis", exc)
                    return
                differences = []
                for index, difference in enumerate(response.differences[: cfg.k], start=1):
                    crop = None
                    if difference.crop is not None:
                        crop = f"crops/{item.id}_{index}.png"
                        atomic_write_bytes(self.out / crop, difference.crop.to_bytes())
                    differences.append(
                        DatasetDifference(index=index, description=difference.description, box_2d=difference.box_2d, crop=crop)
                    )
                self.analysis_log.append(AnalysisRecord(id=item.id, differences=differences))
                self.progress.advance()

            pool.submit(item.id, step)
        await pool.run()

    def _truth_differences(self, item: SourceItem, original_png: bytes, planted: list[dict[str, Any]]) -> None:
        from PIL import Image

        with Image.open(item.image) as img:
            size = img.size
        differences = []
        for index, entry in enumerate(sorted(planted, key=lambda d: d.get("index", 0))[: self.config.k], start=1):
            ymin, xmin, ymax, xmax = entry["box_2d"]
            box = square_box((ymin, xmin, ymax, xmax), size, self.config.resize_mode)
            crop = f"crops/{item.id}_{index}.png"
            atomic_write_bytes(self.out / crop, crop_png(original_png, box))
            differences.append(DatasetDifference(index=index, description=entry["description"], box_2d=box, crop=crop))
        self.analysis_log.append(AnalysisRecord(id=item.id, differences=differences))
        self.progress.advance()

    # -- the build -------------------------------------------------------------------------------------
    def _select(self, items: list[SourceItem], published: dict[str, float] | None) -> tuple[list[str], SelectionInfo]:
        cfg = self.config
        scores = {r.id: r for r in self.scores_log.read(ScoreRecord)}
        candidates = [item.id for item in items if item.id in scores]
        if cfg.selection == "top_n":
            if cfg.rank_by == "clip":
                missing = [i for i in candidates if scores[i].clip is None]
                if missing:
                    statuses = sorted({scores[i].clip_status for i in missing})
                    raise ValueError(
                        f"{len(missing)} drafts have no CLIP score (scorer CLIP status: {', '.join(statuses)}), so top-N by CLIP "
                        "cannot be selected; configure CLIP weights on the scorer, or choose --rank-by psnr, --select all, "
                        "or --select list with a published list"
                    )
            kept = top_n({i: getattr(scores[i], cfg.rank_by) for i in candidates}, cfg.top_n)
            info = SelectionInfo(method="top_n", top_n=cfg.top_n, rank_by=cfg.rank_by, candidates=len(candidates), kept=len(kept))
        elif cfg.selection == "list":
            assert published is not None and cfg.selection_list is not None
            kept = sorted(i for i in candidates if i in published)
            available = {item.id for item in items}
            info = SelectionInfo(
                method="list",
                list_path=cfg.selection_list.name,
                list_sha256=sha256_file(cfg.selection_list),
                list_entries=len(published),
                list_missing=sum(1 for i in published if i not in available),
                candidates=len(candidates),
                kept=len(kept),
            )
        else:
            kept = sorted(candidates)
            info = SelectionInfo(method="all", candidates=len(candidates), kept=len(kept))
        return kept, info

    async def run(self) -> BuildResult:
        """Build (or resume building) the dataset into ``out``; one process at a time per folder."""
        if self.config.selection == "list" and self.config.selection_list is None:
            raise ValueError("--select list needs --list <captions_top.json-format file>")
        with claim_output_folder(self.out, f"dataset build {self.out}"):
            return await self._run()

    async def _run(self) -> BuildResult:
        cfg = self.config
        self._check_config()
        items, _skipped = scan_source(cfg.source)
        published = load_selection_list(cfg.selection_list) if cfg.selection == "list" and cfg.selection_list else None
        if published is not None:
            items = [item for item in items if item.id in published]  # only listed images need drafts
        if cfg.limit is not None:
            items = items[: cfg.limit]
        if not items:
            raise ValueError(
                f"no images with captions to build from in {cfg.source}" + (" that are on the list" if published else "")
            )
        by_id = {item.id: item for item in items}

        async with AsyncFashionEditClient(self.settings, max_concurrency=cfg.concurrency) as client:
            infos = await self._infos(client)
            await self._drafts(client, items)
            await self._scores(client, items)
            kept_ids, selection = self._select(items, published)
            await self._analysis(client, [by_id[i] for i in kept_ids])

        scores = {r.id: r for r in self.scores_log.read(ScoreRecord)}
        drafts = {r.id: r for r in self.drafts_log.read(DraftRecord)}
        analyses = {r.id: r for r in self.analysis_log.read(AnalysisRecord)}
        require_k = cfg.require_k if cfg.require_k is not None else cfg.selection != "list"
        plan = plan_split(
            kept_ids,
            {i: len(a.differences) for i, a in analyses.items()},
            k=cfg.k,
            require_k=require_k,
            val_size=cfg.val_size,
            seed=cfg.split_seed,
        )
        final_ids, split = plan.final_ids, plan.split
        selection = selection.model_copy(update={"dropped": plan.dropped})
        samples = [
            DatasetSample(
                id=item_id,
                split=split[item_id],
                caption=by_id[item_id].caption,
                original=f"originals/{item_id}.png",
                draft=f"drafts/{item_id}.png",
                draft_seed=drafts[item_id].seed,
                draft_clip=scores[item_id].clip,
                draft_psnr=scores[item_id].psnr,
                published_clip=published.get(item_id) if published else None,
                differences=analyses[item_id].differences,
            )
            for item_id in final_ids
        ]
        draft_settings: dict[str, Any] = (
            {"from_folder": str(cfg.drafts_from)}
            if cfg.drafts_from
            else {
                "steps": cfg.steps,
                "guidance": cfg.guidance,
                "negative_prompt": cfg.negative_prompt,
                "width": cfg.draft_size,
                "height": cfg.draft_size,
                "seed": cfg.seed,
                "seed_rule": "crc32(f'{seed}:{id}') & 0x7fffffff",
            }
        )
        models = [m for m in infos.values() if m is not None]
        manifest = DatasetManifest(
            source=str(cfg.source),
            image_size=cfg.image_size,
            resize_mode=cfg.resize_mode,
            selection=selection,
            split=plan.info,
            drafts=draft_settings,
            k=cfg.k,
            generator=infos.get("generator"),
            analyzer=infos.get("analyzer"),
            scorer=infos.get("scorer"),
            differences_source=f"ground truth: {cfg.differences_from.name}" if cfg.differences_from else "analyzer",
            offline=any(m.offline or m.random_weights for m in models),
            num_samples=len(samples),
        )
        write_dataset(self.out, manifest, samples)
        return BuildResult(out=self.out, manifest=manifest, failed=dict(self.failed))

    async def _infos(self, client: AsyncFashionEditClient) -> dict[str, ModelInfo | None]:
        names = (
            ["scorer"]
            + ([] if self.config.differences_from else ["analyzer"])
            + ([] if self.config.drafts_from else ["generator"])
        )
        infos = await asyncio.gather(*(client.services()[name].info() for name in names))
        return {name: info.model for name, info in zip(names, infos, strict=True)}


class SplitPlan(BaseModel):
    final_ids: list[str]
    split: dict[str, str]
    dropped: dict[str, int]
    info: SplitInfo


def plan_split(
    kept_ids: list[str], difference_counts: dict[str, int], *, k: int, require_k: bool, val_size: int | None, seed: int
) -> SplitPlan:
    """The seeded split of the selection, then what is left out; the split is never re-drawn around a dropped item.

    ``difference_counts`` has an entry per analysed item (missing: its analysis failed). With a published list of
    11,546 and short items kept, that is the paper's 10,546/1,000 exactly; each dropped item leaves its own split one
    short, and ``info.rule`` says so with the reasons.
    """
    val = val_size if val_size is not None else default_val_size(len(kept_ids))
    if val > len(kept_ids):
        raise ValueError(f"--val-size {val} is larger than the {len(kept_ids)} samples selected")
    split = split_ids(kept_ids, seed, val)
    dropped: dict[str, int] = {}
    dropped_by_split = {"train": 0, "val": 0}
    final_ids = []
    for item_id in kept_ids:
        reason = None
        if item_id not in difference_counts:
            reason = "analysis_failed"
        elif require_k and difference_counts[item_id] < k:
            reason = f"fewer_than_{k}_differences"
        if reason is None:
            final_ids.append(item_id)
        else:
            dropped[reason] = dropped.get(reason, 0) + 1
            dropped_by_split[split[item_id]] += 1
    rule = "given (--val-size)" if val_size is not None else PROPORTIONAL_RULE
    short = sum(1 for i in final_ids if difference_counts[i] < k)
    if short:
        rule += (
            f"; {short} samples kept with fewer than {k} differences "
            "(the runner's --missing-difference decides their later rounds)"
        )
    if dropped:
        rule += (
            f"; drawn over the {len(kept_ids)} selected ({len(kept_ids) - val} train / {val} val), then "
            f"{dropped_by_split['train']} train and {dropped_by_split['val']} val samples were left out "
            f"({', '.join(f'{n} {r}' for r, n in sorted(dropped.items()))})"
        )
    val_final = val - dropped_by_split["val"]
    info = SplitInfo(seed=seed, train=len(final_ids) - val_final, val=val_final, rule=rule)
    return SplitPlan(final_ids=final_ids, split={i: split[i] for i in final_ids}, dropped=dropped, info=info)


def score_fields(response: Any) -> dict[str, Any]:
    """``clip`` (x100), ``clip_status`` and ``psnr`` of a one-pair ScoreResponse, honest about CLIP."""
    pair = response.scores[0]
    status = next((m for m in response.metrics if m.metric.value == "clip"), None)
    if status is None or not status.available or pair.clip is None:
        return {"clip": None, "clip_status": "unavailable", "psnr": pair.psnr}
    if status.random_weights:
        return {"clip": None, "clip_status": "random_weights", "psnr": pair.psnr}
    return {"clip": pair.clip, "clip_status": "ok", "psnr": pair.psnr}


def build_dataset(
    config: BuildConfig, settings: ClientSettings | None = None, *, progress: Progress | None = None
) -> BuildResult:
    """Synchronous entry point: ``asyncio.run`` of :meth:`DatasetBuilder.run`."""
    return asyncio.run(DatasetBuilder(config, settings, progress=progress).run())


def load_ground_truth(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """``{id: [{index, description, box_2d}, ...]}`` from a JSONL file (fashionedit.flats' ground_truth.jsonl format)."""
    out: dict[str, list[dict[str, Any]]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                out[str(entry["id"])] = [
                    {
                        "index": int(d.get("index", i)),
                        "description": str(d["description"]),
                        "box_2d": [float(v) for v in d["box_2d"]],
                    }
                    for i, d in enumerate(entry.get("differences", []), start=1)
                ]
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(
                    f"{path} line {number}: expected {{id, differences: [{{description, box_2d}}]}} ({exc})"
                ) from exc
    return out

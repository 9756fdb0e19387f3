"""The benchmark runner: Table 1's methods over a FashionEdit dataset, through the services, resumable.

Work is a set of *steps*, one per (item, method, round), persisted as :class:`RoundRecord` lines in
``<run>/records.jsonl`` (appended and fsync-ed as each step finishes; its image is written atomically
first). A rerun with the same folder reads the log and runs only what is not finished, so a
``kill -9`` loses at most the steps in flight and never repeats a finished one.

* ``SD3`` (init, train+val): the dataset's draft scored against the original.
* ``SD2`` (init, train+val): a draft from a generator serving SD2 (``sd2_generator_url``), scored.
* ``Vanilla`` / ``BUG`` (val), rounds 1..R: round r applies difference r (1-based) to round r-1's output
  (round 0 is the draft): its description for Vanilla; its description and reference crop for BUG.
  Every round is scored against the original.

Steps run on a bounded pool: at most ``concurrency`` calls in flight per service (the SDK's per-service
bound, spread over replicas round-robin) and twice as many steps, so a step that is scoring does not keep
an editor slot idle. Ready steps go lowest round first, so the editor stays busy until the last round.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import platform
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from fashionedit.contracts import DatasetSample, ImagePayload, ModelInfo, PairScore, RoundRecord, RunMetadata
from fashionedit.contracts.edit import BUG_PROMPT, VANILLA_PROMPT, compose_prompt
from fashionedit.contracts.files import atomic_write_bytes, atomic_write_text
from fashionedit.contracts.score import DEFAULT_CLIP_THRESHOLD

from ..bundle import AsyncFashionEditClient
from ..common.dataset_folder import Dataset, load_dataset
from ..common.folder_lock import claim_output_folder
from ..common.jsonl import JsonlLog
from ..common.progress import NoProgress, Progress
from ..common.work import AttemptsExhausted, WorkPool, call_with_retries, describe_error
from ..services import AsyncGeneratorClient
from ..settings import ClientSettings

RECORDS_FILE = "records.jsonl"
METADATA_FILE = "run.json"
Family = Literal["SD2", "SD3", "Vanilla", "BUG"]
EDIT_FAMILIES: tuple[Family, ...] = ("Vanilla", "BUG")
INIT_FAMILIES: tuple[Family, ...] = ("SD2", "SD3")


class RunConfig(BaseModel):
    dataset: Path
    out: Path
    methods: list[Family] = Field(default_factory=lambda: list[Family](["SD2", "SD3", "Vanilla", "BUG"]))
    rounds: int = Field(default=3, ge=1, le=10, description="Editing rounds R (the paper: 3)")
    concurrency: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Calls in flight per service (the SDK spreads them over the replicas); twice as many steps are in flight, "
        "so one step's scoring never holds an editor slot",
    )
    item_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Tries per step after a local fault (file I/O); a service error is final (its retries are done)",
    )
    retry_backoff_s: float = Field(default=1.0, ge=0)
    seed: int = Field(default=0, ge=0, description="Edit and SD2 seeds derive from it and the step")
    clip_threshold: float = Field(default=DEFAULT_CLIP_THRESHOLD, gt=0, lt=1)
    init_splits: list[str] = Field(
        default_factory=lambda: ["train", "val"], description="Splits of the SD rows (the paper: train+val)"
    )
    edit_splits: list[str] = Field(default_factory=lambda: ["val"], description="Splits of the editing rows (the paper: val)")
    limit: int | None = Field(default=None, ge=1, description="Only the first N items (sorted ids) of each split selection")
    box: Literal["never", "bug", "all"] = Field(
        default="never",
        description="Send the difference's box as target_box: never (the paper's exact calls: no mask, no box), on BUG rounds "
        "(an OpenAI editor then adds input_image_mask; local editors place the crop there), or on all rounds",
    )
    edit_size: str | None = Field(
        default=None, description="Editor output size, e.g. 1024x1024; unset: the editor keeps the input size"
    )
    sd2_generator_url: list[str] | None = Field(
        default=None, description="Generator replicas serving SD2 (the SD2 row); unset: no SD2 row"
    )
    missing_difference: Literal["fail", "carry"] = Field(
        default="fail",
        description="An item with fewer differences than rounds: 'fail' those rounds, or 'carry' the previous output unchanged "
        "(scored again, marked carried) so every row covers the same items",
    )
    score: bool = Field(default=True, description="Score every step (turn off only to time the editor alone)")

    @field_validator("dataset")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()  # the report reads it back from run.json, from any folder


def step_seed(seed: int, *parts: object) -> int:
    return zlib.crc32(":".join(map(str, (seed, *parts))).encode()) & 0x7FFFFFFF


def record_key(record: RoundRecord) -> tuple[str, str, int]:
    return record.item_id, record.family, record.round


def load_records(run_dir: str | Path) -> dict[tuple[str, str, int], RoundRecord]:
    """The latest record per (item, family, round): a retried step's newer line wins."""
    latest: dict[tuple[str, str, int], RoundRecord] = {}
    for record in JsonlLog(Path(run_dir) / RECORDS_FILE).read(RoundRecord):
        latest[record_key(record)] = record
    return latest


def package_versions() -> dict[str, str]:
    names = ["fashionedit-client", "fashionedit-contracts", "httpx", "pydantic"]
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


class ServicesChanged(ValueError):
    pass


class BenchmarkRunner:
    def __init__(
        self,
        config: RunConfig,
        settings: ClientSettings | None = None,
        *,
        progress: Progress | None = None,
        allow_changed_services: bool = False,
    ) -> None:
        self.config = config
        self.settings = settings or ClientSettings()
        self.progress = progress or NoProgress()
        self.allow_changed_services = allow_changed_services
        self.out = config.out
        self.log = JsonlLog(self.out / RECORDS_FILE)
        self.dataset: Dataset = load_dataset(config.dataset)
        self.counts = {"ok": 0, "failed": 0}

    # -- what to run -------------------------------------------------------------------------------
    def _items(self, splits: list[str]) -> list[DatasetSample]:
        items = sorted(self.dataset.split(*splits), key=lambda s: s.id)
        return items[: self.config.limit] if self.config.limit else items

    def planned(self) -> dict[str, list[DatasetSample]]:
        """Items per family, sorted by id."""
        cfg = self.config
        plan: dict[str, list[DatasetSample]] = {}
        for family in cfg.methods:
            if family == "SD2" and not cfg.sd2_generator_url:
                continue
            plan[family] = self._items(cfg.init_splits if family in INIT_FAMILIES else cfg.edit_splits)
        return plan

    # -- metadata ----------------------------------------------------------------------------------------
    async def _metadata(self, client: AsyncFashionEditClient, sd2: AsyncGeneratorClient | None) -> RunMetadata:
        needed = {"scorer"}
        if any(f in EDIT_FAMILIES for f in self.config.methods):
            needed.add("editor")
        infos = {name: (await client.services()[name].info()).model for name in sorted(needed)}
        if sd2 is not None:
            infos["generator_sd2"] = (await sd2.info()).model
        if self.dataset.manifest.generator is not None:
            infos["generator_dataset_drafts"] = self.dataset.manifest.generator
        services = {name: info for name, info in infos.items() if info is not None}
        offline = self.dataset.manifest.offline or any(m.offline or m.random_weights for m in services.values())
        path = self.out / METADATA_FILE
        now = datetime.now(UTC)
        config = self.config.model_dump(mode="json")
        if path.exists():
            previous = RunMetadata.model_validate_json(path.read_text())
            changed = sorted(
                name
                for name in set(previous.services) | set(services)
                if _identity(previous.services.get(name)) != _identity(services.get(name))
            )
            if changed and not self.allow_changed_services:
                raise ServicesChanged(
                    f"the run in {self.out} was started with other models for {', '.join(changed)}; resuming would mix them in "
                    "one "
                    "table. Point the client at the same services, use a new --out, or pass --allow-changed-services"
                )
            content = (
                "dataset",
                "rounds",
                "seed",
                "clip_threshold",
                "box",
                "edit_size",
                "init_splits",
                "edit_splits",
                "missing_difference",
            )
            changed_cfg = [k for k in content if previous.config.get(k) != config.get(k)]
            if changed_cfg:
                raise ValueError(
                    f"the run in {self.out} was made with other settings ({', '.join(changed_cfg)}); use a new --out"
                )
            meta = previous.model_copy(
                update={
                    "resumed": [*previous.resumed, now],
                    "config": config,
                    "concurrency": self.config.concurrency,
                    "services": {**previous.services, **services},
                    "finished_at": None,
                }
            )
        else:
            meta = RunMetadata(
                run_id=hashlib.sha256(f"{self.out.resolve()}:{now.isoformat()}".encode()).hexdigest()[:12],
                started_at=now,
                dataset=str(self.config.dataset),
                manifest_sha256=self.dataset.sha256(),
                seed=self.config.seed,
                concurrency=self.config.concurrency,
                clip_threshold=self.config.clip_threshold,
                config=config,
                services=services,
                versions=package_versions(),
                offline=offline,
            )
        atomic_write_text(path, meta.model_dump_json(indent=2) + "\n")
        return meta

    # -- one step ----------------------------------------------------------------------------------------
    async def _score(self, client: AsyncFashionEditClient, output: ImagePayload, sample: DatasetSample) -> dict[str, Any]:
        if not self.config.score:
            return {}
        response = await client.scorer.score(
            [(sample.id, output, ImagePayload.from_path(self.dataset.path(sample.original)))],
            metrics=["clip", "psnr"],
            clip_threshold=self.config.clip_threshold,
        )
        pair: PairScore = response.scores[0]
        status = next((m for m in response.metrics if m.metric.value == "clip"), None)
        if status is None or not status.available or pair.clip is None:
            return {"scores": pair, "clip_status": "unavailable", "clip_note": status.reason if status else "CLIP not reported"}
        if status.random_weights:
            return {
                "scores": pair,
                "clip_status": "random_weights",
                "clip_note": "random CLIP weights (test only): not a CLIP score",
            }
        return {"scores": pair, "clip_status": "ok"}

    async def _finish(self, record: RoundRecord) -> None:
        record = record.model_copy(update={"finished_at": datetime.now(UTC)})
        await asyncio.to_thread(self.log.append, record)  # fsync off the event loop
        self.counts[record.status] += 1
        self.progress.advance(failed=record.status == "failed")

    async def _run_step(self, key: tuple[str, str, int], work: Any) -> tuple[dict[str, Any], str | None, int, float]:
        """``(record fields, error, attempts, elapsed ms)``: the fields are empty when the step failed."""
        started = time.perf_counter()
        try:
            fields, attempts = await call_with_retries(work, self.config.item_attempts, self.config.retry_backoff_s)
            return fields, None, attempts, (time.perf_counter() - started) * 1000
        except AttemptsExhausted as exc:
            return {}, describe_error(exc.error), exc.attempts, (time.perf_counter() - started) * 1000

    async def _init_step(
        self, client: AsyncFashionEditClient, sd2: AsyncGeneratorClient | None, family: str, sample: DatasetSample
    ) -> None:
        async def work() -> dict[str, Any]:
            if family == "SD3":
                draft = ImagePayload.from_path(self.dataset.path(sample.draft))
                return {"output": None, "model": self.dataset.manifest.generator, **await self._score(client, draft, sample)}
            assert sd2 is not None
            size = self.dataset.manifest.drafts.get("width", 1024)
            response = await sd2.generate(
                prompt=sample.caption,
                negative_prompt="",
                seed=step_seed(self.config.seed, sample.id, "SD2"),
                width=size,
                height=size,
                steps=28,
                guidance=7.0,
            )
            image = response.images[0].image
            output = f"images/SD2/{sample.id}.png"
            await asyncio.to_thread(atomic_write_bytes, self.out / output, image.to_bytes())
            return {"output": output, "model": response.model, **await self._score(client, image, sample)}

        fields, error, attempts, elapsed = await self._run_step((sample.id, family, 0), work)
        base = {
            "item_id": sample.id,
            "family": family,
            "round": 0,
            "split": sample.split,
            "attempts": attempts,
            "elapsed_ms": elapsed,
        }
        if error is not None:
            await self._finish(RoundRecord(**base, status="failed", error=error))
        else:
            await self._finish(RoundRecord(**base, **fields))

    def _input_path(self, sample: DatasetSample, family: str, round_: int) -> Path:
        if round_ <= 1:
            return self.dataset.path(sample.draft)
        return self.out / edit_output(family, sample.id, round_ - 1)

    async def _edit_step(
        self, pool: WorkPool, client: AsyncFashionEditClient, family: str, sample: DatasetSample, round_: int
    ) -> None:
        cfg = self.config
        base = {"item_id": sample.id, "family": family, "round": round_, "split": sample.split}
        differences = {d.index: d for d in sample.differences}
        difference = differences.get(round_)  # round r applies difference r (1-based)
        if difference is None and cfg.missing_difference == "carry":
            await self._carry(pool, client, family, sample, round_)
            return
        if difference is None:
            await self._finish(
                RoundRecord(**base, status="failed", attempts=0, error=f"the dataset has no difference {round_} for this item")
            )
            await self._skip_rest(family, sample, round_)
            return
        template = BUG_PROMPT if family == "BUG" else VANILLA_PROMPT
        reference = difference.crop if family == "BUG" else None
        if family == "BUG" and reference is None:
            await self._finish(
                RoundRecord(**base, status="failed", attempts=0, error=f"difference {round_} has no reference crop")
            )
            await self._skip_rest(family, sample, round_)
            return
        send_box = cfg.box == "all" or (cfg.box == "bug" and family == "BUG")
        output = edit_output(family, sample.id, round_)

        async def work() -> dict[str, Any]:
            request: dict[str, Any] = {
                "image": ImagePayload.from_path(self._input_path(sample, family, round_)),
                "instruction": difference.description,
                "seed": step_seed(cfg.seed, sample.id, family, round_),
            }
            if reference is not None:
                request["references"] = [ImagePayload.from_path(self.dataset.path(reference))]
            if send_box:
                request["target_box"] = difference.box_2d
            if cfg.edit_size:
                request["size"] = cfg.edit_size
            response = await client.editor.edit(**request)
            await asyncio.to_thread(atomic_write_bytes, self.out / output, response.image.to_bytes())
            return {
                "output": output,
                "prompt": response.prompt,
                "model": response.model,
                **await self._score(client, response.image, sample),
            }

        fields, error, attempts, elapsed = await self._run_step((sample.id, family, round_), work)
        record = RoundRecord(
            **base,
            instruction=difference.description,
            reference=reference,
            attempts=attempts,
            elapsed_ms=elapsed,
            prompt=compose_prompt(template, difference.description),
        )
        if error is not None:
            await self._finish(record.model_copy(update={"status": "failed", "error": error}))
            await self._skip_rest(family, sample, round_)
            return
        await self._finish(record.model_copy(update=fields))
        if round_ < cfg.rounds:
            pool.submit((round_ + 1, family, sample.id), self._edit_closure(client, family, sample, round_ + 1))

    async def _carry(
        self, pool: WorkPool, client: AsyncFashionEditClient, family: str, sample: DatasetSample, round_: int
    ) -> None:
        output = edit_output(family, sample.id, round_)

        async def work() -> dict[str, Any]:
            data = self._input_path(sample, family, round_).read_bytes()
            await asyncio.to_thread(atomic_write_bytes, self.out / output, data)
            return {"output": output, **await self._score(client, ImagePayload.from_bytes(data), sample)}

        fields, error, attempts, elapsed = await self._run_step((sample.id, family, round_), work)
        base = {
            "item_id": sample.id,
            "family": family,
            "round": round_,
            "split": sample.split,
            "attempts": attempts,
            "elapsed_ms": elapsed,
            "carried": True,
        }
        if error is not None:
            await self._finish(RoundRecord(**base, status="failed", error=error))
            await self._skip_rest(family, sample, round_)
            return
        await self._finish(RoundRecord(**base, **fields))
        if round_ < self.config.rounds:
            pool.submit((round_ + 1, family, sample.id), self._edit_closure(client, family, sample, round_ + 1))

    async def _skip_rest(self, family: str, sample: DatasetSample, failed_round: int) -> None:
        """Later rounds cannot run without this one: record them as failed so the table counts them."""
        for later in range(failed_round + 1, self.config.rounds + 1):
            await self._finish(
                RoundRecord(
                    item_id=sample.id,
                    family=family,
                    round=later,
                    split=sample.split,
                    status="failed",
                    attempts=0,
                    error=f"not run: round {failed_round} failed",
                )
            )

    def _edit_closure(self, client: AsyncFashionEditClient, family: str, sample: DatasetSample, round_: int):
        async def step(pool: WorkPool) -> None:
            await self._edit_step(pool, client, family, sample, round_)

        return step

    # -- the run -----------------------------------------------------------------------------------------
    async def run(self) -> RunMetadata:
        """Run (or resume) the benchmark into ``out``; one process at a time per folder."""
        with claim_output_folder(self.out, f"benchmark run {self.out}"):
            return await self._run()

    async def _run(self) -> RunMetadata:
        cfg = self.config
        done = {key for key, record in load_records(self.out).items() if record.status == "ok"}
        plan = self.planned()
        sd2 = (
            AsyncGeneratorClient(self.settings, urls=cfg.sd2_generator_url, max_concurrency=cfg.concurrency)
            if cfg.sd2_generator_url
            else None
        )
        async with AsyncFashionEditClient(self.settings, max_concurrency=cfg.concurrency) as client:
            try:
                meta = await self._metadata(client, sd2)
                pool = WorkPool(2 * cfg.concurrency)
                total = 0
                for family, samples in plan.items():
                    for sample in samples:
                        if family in INIT_FAMILIES:
                            if (sample.id, family, 0) not in done:
                                pool.submit((0, family, sample.id), self._init_closure(client, sd2, family, sample))
                                total += 1
                            continue
                        first = next((r for r in range(1, cfg.rounds + 1) if (sample.id, family, r) not in done), None)
                        if first is None:
                            continue
                        if first > 1 and not (self.out / edit_output(family, sample.id, first - 1)).is_file():
                            first = 1  # the input image is gone: redo the chain from the draft
                        pool.submit((first, family, sample.id), self._edit_closure(client, family, sample, first))
                        total += cfg.rounds - first + 1
                self.progress.start(total, f"benchmark ({cfg.concurrency} in flight)")
                await pool.run()
            finally:
                if sd2 is not None:
                    await sd2.aclose()
        meta = meta.model_copy(update={"finished_at": datetime.now(UTC)})
        atomic_write_text(self.out / METADATA_FILE, meta.model_dump_json(indent=2) + "\n")
        return meta

    def _init_closure(self, client: AsyncFashionEditClient, sd2: AsyncGeneratorClient | None, family: str, sample: DatasetSample):
        async def step(pool: WorkPool) -> None:
            await self._init_step(client, sd2, family, sample)

        return step


def edit_output(family: str, item_id: str, round_: int) -> str:
    return f"images/{family}/{item_id}/round{round_}.png"


def _identity(info: ModelInfo | None) -> tuple[Any, ...] | None:
    if info is None:
        return None
    return (
        info.backend,
        info.model_id,
        info.weights.name if info.weights else None,
        info.weights.sha256 if info.weights else None,
        info.random_weights,
    )


def run_benchmark(
    config: RunConfig,
    settings: ClientSettings | None = None,
    *,
    progress: Progress | None = None,
    allow_changed_services: bool = False,
) -> RunMetadata:
    return asyncio.run(BenchmarkRunner(config, settings, progress=progress, allow_changed_services=allow_changed_services).run())

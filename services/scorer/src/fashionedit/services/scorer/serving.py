"""Score requests: decode in parallel, one CLIP forward per chunk, the paper's metrics, honest statuses.

Plain Python: the BentoML class in ``service.py`` only binds :meth:`ScorerServing.score`
and :meth:`ScorerServing.info` to HTTP; tests and benchmarks call them directly.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from fashionedit.contracts import ModelInfo, ServiceInfo
from fashionedit.contracts.score import (
    MAX_PAIRS_PER_REQUEST,
    Metric,
    MetricStatus,
    PairScore,
    ScoreAggregate,
    ScoreRequest,
    ScoreResponse,
)
from fashionedit.services.common import BackgroundLoader, InvalidInput, Overloaded, PayloadTooLarge, Stopwatch, Unavailable
from fashionedit.services.common.deadline import check_deadline, current_deadline

from . import metrics
from .backends import BACKENDS, EmbedderUnavailable, ImageEmbedder, load_embedder
from .batching import ForwardBatcher
from .lpips_metric import LpipsMetric, load_lpips
from .preprocess import PairError, PreparedPair, prepare_pair
from .settings import ScorerSettings

log = logging.getLogger(__name__)

try:
    VERSION = version("fashionedit-scorer")
except PackageNotFoundError:  # running from a source tree
    VERSION = "0.0.0"


class _Clip:
    """The loaded embedder and its batcher, or why there is none."""

    def __init__(self, settings: ScorerSettings) -> None:
        loaded = load_embedder(settings)
        self.unavailable: EmbedderUnavailable | None = loaded if isinstance(loaded, EmbedderUnavailable) else None
        self.embedder: ImageEmbedder | None = None if self.unavailable else loaded  # type: ignore[assignment]
        self.batcher: ForwardBatcher | None = None
        if self.embedder is not None:
            self.batcher = ForwardBatcher(
                self.embedder,
                max_batch=getattr(self.embedder, "batch_size", 64),
                across_requests=settings.batch_across_requests,
                wait_ms=settings.batch_wait_ms,
            )

    @property
    def info(self) -> ModelInfo:
        return self.embedder.info if self.embedder is not None else self.unavailable.info  # type: ignore[union-attr]


class ScorerServing:
    def __init__(self, settings: ScorerSettings | None = None, *, background: bool | None = None) -> None:
        self.settings = settings or ScorerSettings()
        background = self.settings.load_in_background if background is None else background
        threads = self.settings.decode_threads or (os.cpu_count() or 1)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scorer-decode")
        self.clip = BackgroundLoader(lambda: _Clip(self.settings), name="CLIP model", background=background)
        self.lpips = BackgroundLoader(lambda: load_lpips(self.settings), name="LPIPS", background=background)

    # -- readiness and info ----------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Ready once loading has finished, whether or not CLIP weights were found (PSNR is served either way)."""
        return self.clip.ready and self.lpips.ready

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self.clip.wait(timeout) and self.lpips.wait(timeout)

    def statuses(self) -> dict[Metric, MetricStatus]:
        clip = self.clip.get()
        lpips = self.lpips.get()
        ssim_reason = metrics.ssim_available()
        out = {
            Metric.CLIP: MetricStatus(
                metric=Metric.CLIP,
                available=clip.embedder is not None,
                reason=clip.unavailable.reason if clip.unavailable else None,
                weights=clip.info.weights if clip.embedder is not None else None,
                random_weights=clip.info.random_weights,
            ),
            Metric.PSNR: MetricStatus(metric=Metric.PSNR, available=True),
            Metric.SSIM: MetricStatus(metric=Metric.SSIM, available=ssim_reason is None, reason=ssim_reason),
        }
        if isinstance(lpips, LpipsMetric):
            out[Metric.LPIPS] = MetricStatus(
                metric=Metric.LPIPS, available=True, weights=lpips.weights, random_weights=lpips.random_weights
            )
        else:
            out[Metric.LPIPS] = MetricStatus(metric=Metric.LPIPS, available=False, reason=lpips.reason)
        return out

    def info(self) -> ServiceInfo:
        ready = self.ready
        model = None
        message = None
        available: list[str] = []
        if ready:
            statuses = self.statuses()
            model = self.clip.get().info
            available = [m.value for m, s in statuses.items() if s.available]
            message = "; ".join(f"{m.value} unavailable: {s.reason}" for m, s in statuses.items() if not s.available) or None
        else:
            message = "loading models"
        return ServiceInfo(
            service="scorer",
            version=VERSION,
            ready=ready,
            model=model,
            backends=list(BACKENDS),
            limits={
                "max_pairs_per_request": self.settings.max_pairs,
                "max_request_pixels": self.settings.max_request_pixels,
                "timeout_s": self.settings.timeout_s,
                "contract_max_pairs_per_request": MAX_PAIRS_PER_REQUEST,
                "metrics_available": available,
                "psnr_rule": metrics.PSNR_RULES[self.settings.psnr_identical],
                "psnr_decode": metrics.PSNR_DECODE[self.settings.psnr_decode],
                "clip_activation": getattr(self.clip.get().embedder, "activation", None) if ready else None,
            },
            message=message,
        )

    # -- scoring ---------------------------------------------------------------------
    def score(self, request: ScoreRequest) -> ScoreResponse:
        watch = Stopwatch()
        n = len(request.pairs)
        if n > self.settings.max_pairs:
            raise InvalidInput.at(
                ["pairs"],
                f"{n} pairs is over this deployment's limit of {self.settings.max_pairs} per request; split the request",
            )
        self._check_budget(request)
        clip = self.clip.get()
        lpips = self.lpips.get()
        statuses = self.statuses()
        requested = list(request.metrics)
        if not any(statuses[m].available for m in requested):
            reasons = "; ".join(f"{m.value}: {statuses[m].reason}" for m in requested)
            raise Unavailable(f"none of the requested metrics can be computed here ({reasons})")
        do = {m: (m in requested and statuses[m].available) for m in Metric}

        geometry = clip.embedder.geometry if (do[Metric.CLIP] and clip.embedder is not None) else None
        rule = self.settings.psnr_identical
        jobs: list[Future[PreparedPair]] = [
            self.pool.submit(
                prepare_pair,
                i,
                pair.generated,
                pair.reference,
                geometry=geometry,
                want_psnr=do[Metric.PSNR],
                want_ssim=do[Metric.SSIM],
                psnr_rule=rule,
                psnr_decode=self.settings.psnr_decode,
                jpeg_draft=self.settings.jpeg_draft,
            )
            for i, pair in enumerate(request.pairs)
        ]
        try:
            prepared, embeds = self._collect(jobs, clip if geometry is not None else None, watch)
        except PairError as exc:
            for job in jobs:
                job.cancel()
            raise InvalidInput.at(exc.loc, exc.message) from None
        except BaseException:
            for job in jobs:  # timed out or failed: queued decodes are not started
                job.cancel()
            raise

        cos: np.ndarray | None = None
        if embeds:
            with watch.stage("clip_wait"):
                results = [self._wait(future) for future in embeds]
            generated = np.concatenate([emb[0::2] for emb, _ in results])
            reference = np.concatenate([emb[1::2] for emb, _ in results])
            cos = metrics.cosines(generated, reference)
            for _, timings in results:
                for key in ("transfer_ms", "forward_ms"):
                    watch.stages[key.removesuffix("_ms")] = watch.stages.get(key.removesuffix("_ms"), 0.0) + timings[key]

        lp: np.ndarray | None = None
        if do[Metric.LPIPS] and isinstance(lpips, LpipsMetric):
            with watch.stage("lpips"):
                lp = np.concatenate(
                    [
                        lpips(
                            np.stack([p.generated.small for p in prepared[s : s + 64]]),
                            np.stack([p.reference.small for p in prepared[s : s + 64]]),
                        )
                        for s in range(0, n, 64)
                    ]
                )

        for done in prepared:
            for key, value in done.cpu_ms.items():
                watch.stages[key] = watch.stages.get(key, 0.0) + value

        threshold = request.clip_threshold
        scores: list[PairScore] = []
        for i, (pair, prep) in enumerate(zip(request.pairs, prepared, strict=True)):
            cosine = float(cos[i]) if cos is not None else None
            scores.append(
                PairScore(
                    id=pair.id,
                    clip=cosine * 100.0 if cosine is not None else None,
                    clip_cosine=cosine,
                    above_threshold=metrics.above(cosine, threshold) if cosine is not None else None,
                    psnr=prep.psnr,
                    identical=prep.identical,
                    ssim=prep.ssim,
                    lpips=float(lp[i]) if lp is not None else None,
                )
            )
        clip_values = [s.clip_cosine for s in scores if s.clip_cosine is not None]
        clip_mean = metrics.mean(clip_values)
        aggregate = ScoreAggregate(
            n=n,
            clip=clip_mean * 100.0 if clip_mean is not None else None,
            clip_star=metrics.clip_star(clip_values, threshold),
            clip_n=len(clip_values) if do[Metric.CLIP] else None,
            psnr=metrics.mean(s.psnr for s in scores) if do[Metric.PSNR] else None,
            psnr_n=sum(1 for s in scores if s.psnr is not None) if do[Metric.PSNR] else None,
            ssim=metrics.mean(s.ssim for s in scores) if do[Metric.SSIM] else None,
            lpips=metrics.mean(s.lpips for s in scores) if do[Metric.LPIPS] else None,
        )
        return ScoreResponse(
            scores=scores,
            aggregate=aggregate,
            metrics=[statuses[m] for m in requested],
            clip_threshold=threshold,
            psnr_rule=f"{metrics.PSNR_RULES[rule]}. Decoding: {metrics.PSNR_DECODE[self.settings.psnr_decode]}",
            model=clip.info,
            timings=watch.timings(),
        )

    def _check_budget(self, request: ScoreRequest) -> None:
        """Refuse, before decoding anything, a request whose images add up to more pixels than one request may cost."""
        total = 0
        for pair in request.pairs:
            for image in (pair.generated, pair.reference):
                width, height = image.size
                total += width * height
        if total > self.settings.max_request_pixels:
            raise PayloadTooLarge(
                f"the {len(request.pairs)} pairs add up to {total} pixels, over this deployment's budget of "
                f"{self.settings.max_request_pixels} per request (FASHIONEDIT_SCORER_MAX_REQUEST_PIXELS); "
                "split the request or send smaller images"
            )
        clip = self.clip.get()
        if clip.batcher is not None and not clip.batcher.has_room(2 * len(request.pairs), self.settings.max_queued_images):
            raise Overloaded(
                f"{clip.batcher.queued_images()} images are waiting for CLIP (limit {self.settings.max_queued_images}); retry "
                "shortly",
                retry_after=1,
            )

    @staticmethod
    def _wait(future: Future):
        """A future's result, but never past the request's time budget (then 504 and the rest is cancelled)."""
        deadline = current_deadline()
        if deadline is None:
            return future.result()
        while True:
            try:
                return future.result(timeout=min(0.25, max(deadline.remaining(), 0.001)))
            except TimeoutError:
                check_deadline()

    def _collect(
        self, jobs: list[Future[PreparedPair]], clip: _Clip | None, watch: Stopwatch
    ) -> tuple[list[PreparedPair], list[Future]]:
        """Wait for prepared pairs in order; hand each full chunk to the CLIP batcher while later pairs still decode."""
        prepared: list[PreparedPair] = []
        embeds: list[Future] = []
        chunk = max(1, clip.batcher.max_batch // 2) if clip is not None and clip.batcher is not None else len(jobs)
        start = time.perf_counter()
        for i, job in enumerate(jobs):
            prepared.append(self._wait(job))
            if clip is not None and clip.batcher is not None and ((i + 1) % chunk == 0 or i + 1 == len(jobs)):
                part = prepared[len(embeds) * chunk :]
                # Interleaved [g0, r0, g1, r1, ...]: one forward for both sides.
                batch = np.stack([img for p in part for img in (p.generated.clip_input(), p.reference.clip_input())])
                embeds.append(clip.batcher.submit(batch))
        watch.stages["prepare"] = (time.perf_counter() - start) * 1000.0
        return prepared, embeds

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.clip.ready:
            clip = self.clip.get()
            if clip.batcher is not None:
                clip.batcher.close()
            if clip.embedder is not None:
                clip.embedder.close()

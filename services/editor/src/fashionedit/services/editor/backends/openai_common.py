"""What both OpenAI backends share: the client, the per-provider limit, error mapping and the box mask.

Retries are the SDK's own (``max_retries``): exponential backoff from 0.5 s with up to 25% jitter,
Retry-After / retry-after-ms honoured, on 408, 409, 429, 5xx, connection errors and timeouts.
What is left after the retries is mapped here to one clear gateway error, marked ``x-should-retry: false``
(this service owns the retries against its provider; see docs/SERVICE_CONVENTIONS.md, "Retries").
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import openai
from PIL import Image

from fashionedit.contracts import Box2D, ImagePayload, ModelInfo, WeightsIdentity
from fashionedit.contracts.images import ImageDecodeError
from fashionedit.services.common import NotReady, ServiceError, UpstreamError, UpstreamUnavailable
from fashionedit.services.common.openai_errors import (
    DEFAULT_RETRY_AFTER_S,
    UNREADABLE_ANSWER_ERRORS,
    map_openai_error,
    provider_text,
    unreadable_answer,
)
from fashionedit.services.common.redact import register_secret

from .base import EditBackend, EditJob

if TYPE_CHECKING:
    from ..settings import EditorSettings

log = logging.getLogger("fashionedit.editor")

# One semaphore per (event loop, provider): backends that share a provider share its slots.
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = weakref.WeakKeyDictionary()


def provider_semaphore(provider: str, limit: int) -> asyncio.Semaphore:
    per_loop = _slots.setdefault(asyncio.get_running_loop(), {})
    if provider not in per_loop:
        per_loop[provider] = asyncio.Semaphore(limit)
    return per_loop[provider]


def box_mask_png(box: Box2D, size: tuple[int, int]) -> bytes:
    """OpenAI's mask: an RGBA PNG the size of the first image, transparent (alpha 0) where to edit."""
    width, height = size
    x0, y0, x1, y1 = box.to_pixels(width, height)
    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (x0, y0, x1, y1))
    buf = io.BytesIO()
    mask.save(buf, format="PNG")
    return buf.getvalue()


def decode_result_image(b64: str | None, what: str) -> ImagePayload:
    """The provider's base64 image as a validated payload; anything else is a 502."""
    if not b64:
        raise UpstreamError(f"the provider's {what} carried no image data")
    try:
        raw = base64.b64decode(b64, validate=True)
        payload = ImagePayload.from_bytes(raw)
        payload.to_pil()
    except (binascii.Error, ValueError, ImageDecodeError) as exc:
        raise UpstreamError(f"the provider's {what} is not a readable image ({exc.__class__.__name__}); retry the edit") from exc
    return payload


class OpenAIBackend(EditBackend):
    """Client set-up, slots and error mapping shared by ``openai-responses`` and ``openai-images``."""

    def __init__(self, settings: EditorSettings) -> None:
        self.settings = settings
        self.client: openai.AsyncOpenAI | None = None
        self._key: str | None = None

    @property
    def max_references(self) -> int:
        return self.settings.openai_max_references

    @property
    def provider(self) -> str:
        return self.settings.openai_base_url or "https://api.openai.com/v1"

    def load(self) -> None:
        key = self.settings.api_key()
        if not key:
            raise RuntimeError(
                f"{self.name} needs an API key: set FASHIONEDIT_EDITOR_OPENAI_API_KEY (or OPENAI_API_KEY, "
                "or FASHIONEDIT_EDITOR_OPENAI_API_KEY_FILE)"
            )
        self._key = key
        register_secret(key)
        self.client = openai.AsyncOpenAI(
            api_key=key,
            base_url=self.settings.openai_base_url,
            timeout=self.settings.openai_timeout_s,
            max_retries=self.settings.openai_max_retries,
        )

    def _model_info(self, model_id: str) -> ModelInfo:
        return ModelInfo(
            backend=self.name,
            model_id=model_id,
            weights=WeightsIdentity(name=model_id, source="api"),
            offline=False,
            random_weights=False,
        )

    def tool_options(self, job: EditJob) -> dict[str, str]:
        """size / quality / input_fidelity: the request's, else the settings' defaults, else left out."""
        options = {
            "size": job.size or self.settings.openai_size,
            "quality": job.quality or self.settings.openai_quality,
            "input_fidelity": job.input_fidelity or self.settings.openai_input_fidelity,
        }
        return {k: v for k, v in options.items() if v is not None}

    @staticmethod
    def request_headers(job: EditJob) -> dict[str, str]:
        return {"X-Request-ID": job.request_id} if job.request_id else {}

    def _clean(self, text: str) -> str:
        """Provider messages can echo a (masked) key: never pass ours on."""
        return provider_text(text)

    @asynccontextmanager
    async def calling(self, job: EditJob) -> AsyncIterator[openai.AsyncOpenAI]:
        """A provider slot, the client, and every SDK failure turned into a gateway error."""
        if self.client is None:
            raise NotReady(f"{self.name} is not loaded")
        slots = provider_semaphore(self.provider, self.settings.openai_max_concurrency)
        try:
            await asyncio.wait_for(slots.acquire(), timeout=self.settings.openai_queue_timeout_s or None)
        except TimeoutError:
            raise UpstreamUnavailable(
                f"all {self.settings.openai_max_concurrency} provider slots stayed busy for "
                f"{self.settings.openai_queue_timeout_s:g} s; retry shortly",
                retry_after=DEFAULT_RETRY_AFTER_S,
                retryable=True,  # nothing reached the provider: the caller's retry costs no upstream call
            ) from None
        try:
            with job.watch.stage("upstream"):
                yield self.client
        except ServiceError:
            raise
        except openai.OpenAIError as exc:
            raise map_openai_error(
                exc,
                provider="the provider",
                timeout_s=self.settings.openai_timeout_s,
                max_retries=self.settings.openai_max_retries,
                key_hint="FASHIONEDIT_EDITOR_OPENAI_API_KEY",
            ) from exc
        except UNREADABLE_ANSWER_ERRORS as exc:
            # A body that is not JSON, or JSON that is not the documented shape.
            raise unreadable_answer(exc, provider="the provider") from exc
        finally:
            slots.release()

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.close()

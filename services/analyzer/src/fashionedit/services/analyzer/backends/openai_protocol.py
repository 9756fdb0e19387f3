"""What both OpenAI-protocol backends share: one Chat Completions call per attempt, reading, re-asking.

The official ``openai`` SDK does transport retries (429 with Retry-After, 5xx,
connection errors) with backoff, bounded by ``max_retries``. On top of that,
an answer that cannot be read is re-asked ``reask_attempts`` times: the
conversation so far plus a short note on what was wrong. After that, 502.
"""

from __future__ import annotations

import base64
import io
import logging
from abc import ABC, abstractmethod
from typing import Any

from openai.types.chat import ChatCompletion
from PIL import Image

from fashionedit.contracts import BoxConvention, ImagePayload, ModelInfo, Usage, WeightsIdentity
from fashionedit.services.common import Stopwatch, UpstreamError
from fashionedit.services.common.asgi import current_request_id
from fashionedit.services.common.deadline import check_deadline, remaining_s
from fashionedit.services.common.openai_errors import UNREADABLE_ANSWER_ERRORS, map_openai_error, unreadable_answer
from fashionedit.services.common.redact import register_secret

from ..geometry import LMM_SIZE_RULE, size_rule
from ..parsing import UnreadableOutput, parse_differences
from .base import BackendResult, ImagePair

log = logging.getLogger(__name__)


def data_url(image: Image.Image | ImagePayload) -> str:
    """An image as a data URL; payloads keep their original bytes (no re-encoding)."""
    if isinstance(image, ImagePayload):
        return image.to_data_url()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def make_client(*, base_url: str | None, api_key: str | None, timeout_s: float, max_retries: int) -> Any:
    import openai

    register_secret(api_key)
    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=max_retries)


def upstream_error(exc: Exception, *, provider: str, timeout_s: float, max_retries: int = 0) -> Exception:
    """Map an ``openai`` SDK exception (after its own retries) to our 502/503/504 errors (the shared mapping)."""
    # The analyzer sends what its caller sent, but a 400 here is most often the server's configuration
    # (model name, response_format support), so it stays a 502 rather than the caller's 422.
    return map_openai_error(exc, provider=provider, timeout_s=timeout_s, max_retries=max_retries, bad_request_is_callers=False)


class ChatDifferenceBackend(ABC):
    """A backend that asks a chat model for differences and reads its answer."""

    name: str
    provider: str

    def __init__(
        self,
        *,
        client: Any,
        model: str,
        temperature: float,
        reask_attempts: int,
        timeout_s: float,
        offline: bool = False,
    ) -> None:
        self.client = client
        self.model = model
        self.temperature = temperature
        self.reask_attempts = reask_attempts
        self.timeout_s = timeout_s
        self.offline = offline

    # -- what each backend decides --------------------------------------------------------------
    @abstractmethod
    def messages(
        self, original: ImagePayload | Image.Image, generated: ImagePayload | Image.Image, k: int
    ) -> list[dict[str, Any]]:
        """The first request's messages."""

    @abstractmethod
    def response_format(self, k: int) -> dict[str, Any] | None:
        """``response_format`` to send (None: none)."""

    @abstractmethod
    def box_reading(self, original_size: tuple[int, int]) -> tuple[BoxConvention, tuple[int, int]]:
        """How the model writes boxes, and the (width, height) its pixel coordinates refer to."""

    @abstractmethod
    def reask_message(self, reason: str, k: int) -> str:
        """The follow-up turn sent when an answer could not be read."""

    # -- shared ---------------------------------------------------------------------------------
    def model_info(self) -> ModelInfo:
        return ModelInfo(
            backend=self.name,
            model_id=self.model,
            weights=WeightsIdentity(name=self.model, source="api"),
            offline=self.offline,
        )

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    def _create(self, messages: list[dict[str, Any]], k: int) -> Any:
        import openai

        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
        response_format = self.response_format(k)
        if response_format is not None:
            kwargs["response_format"] = response_format
        request_id = current_request_id()
        if request_id:
            kwargs["extra_headers"] = {"X-Request-ID": request_id}
        check_deadline()  # the caller may already have its 504: spend nothing more on it
        # No call outlives the request's budget (the SDK's retries included, as far as one timeout bounds them).
        kwargs["timeout"] = max(remaining_s(self.timeout_s), 0.001)
        try:
            completion = self.client.chat.completions.create(**kwargs)
        except openai.OpenAIError as exc:
            check_deadline()
            raise upstream_error(exc, provider=self.provider, timeout_s=self.timeout_s, max_retries=self._max_retries) from exc
        except UNREADABLE_ANSWER_ERRORS as exc:  # e.g. a 200 declared JSON that is not
            raise unreadable_answer(exc, provider=self.provider) from exc
        if not isinstance(completion, ChatCompletion):  # a 200 whose body is not JSON comes back as text
            raise unreadable_answer(TypeError(type(completion).__name__), provider=self.provider)
        return completion

    @property
    def _max_retries(self) -> int:
        return int(getattr(self.client, "max_retries", 0) or 0)

    def analyze(self, pair: ImagePair, k: int, watch: Stopwatch) -> BackendResult:
        original, generated = pair.original, pair.generated
        convention, reference_size = self.box_reading(original.size)
        messages = self.messages(pair.original_payload or original, pair.generated_payload or generated, k)
        usage = Usage(input_tokens=0, output_tokens=0, total_tokens=0)
        attempts = self.reask_attempts + 1
        reason = "no answer"
        for attempt in range(1, attempts + 1):
            with watch.stage("upstream"):
                completion = self._create(messages, k)
            try:
                text, reason, result = self._read(completion, usage, k, convention, reference_size, attempt, pair, watch)
            except UNREADABLE_ANSWER_ERRORS as exc:  # JSON of another shape: the SDK does not validate it
                raise unreadable_answer(exc, provider=self.provider) from exc
            if result is not None:
                return result
            log.warning("attempt %d/%d: unreadable answer from %s: %s", attempt, attempts, self.model, reason)
            messages = messages + [
                {"role": "assistant", "content": text or ""},
                {"role": "user", "content": self.reask_message(reason, k)},
            ]
        raise UpstreamError(f"{self.model} gave no readable differences in {attempts} attempt(s); last problem: {reason}")

    def _read(
        self,
        completion: Any,
        usage: Usage,
        k: int,
        convention: BoxConvention,
        reference_size: tuple[int, int],
        attempt: int,
        pair: ImagePair,
        watch: Stopwatch,
    ) -> tuple[str | None, str, BackendResult | None]:
        """(text, why it could not be used, result or None) of one completion."""
        original, generated = pair.original, pair.generated
        reason = "no answer"
        if completion.usage is not None:
            usage.input_tokens = (usage.input_tokens or 0) + (completion.usage.prompt_tokens or 0)
            usage.output_tokens = (usage.output_tokens or 0) + (completion.usage.completion_tokens or 0)
            usage.total_tokens = (usage.total_tokens or 0) + (completion.usage.total_tokens or 0)
        if not completion.choices:
            reason, text = "the answer had no choices", None
        else:
            choice = completion.choices[0]
            text = choice.message.content
            refusal = getattr(choice.message, "refusal", None)
            if refusal:
                reason = f"the model refused: {refusal[:200]}"
            elif not text:
                reason = f"the answer had no content (finish_reason={choice.finish_reason})"
            else:
                try:
                    with watch.stage("parse"):
                        parsed = parse_differences(text, k=k, convention=convention, image_size=reference_size)
                except UnreadableOutput as exc:
                    reason = str(exc)
                    if choice.finish_reason == "length":
                        reason += " (the answer was cut off: finish_reason=length)"
                else:
                    return (
                        text,
                        reason,
                        BackendResult(
                            differences=parsed.differences,
                            repairs=parsed.repairs,
                            raw_text=text,
                            attempts=attempt,
                            usage=usage,
                            size_rule=size_rule(original, generated, LMM_SIZE_RULE),
                        ),
                    )
        return text, reason, None

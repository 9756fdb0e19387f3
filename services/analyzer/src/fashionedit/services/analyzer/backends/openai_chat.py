"""``openai-chat``: the paper's difference analysis (gpt-4.1-mini, Chat Completions, its prompt verbatim).

One user message: the prompt text, then image 1 = the ORIGINAL, then image 2 = the generated
design; ``response_format={"type": "json_object"}``, temperature 0 (DESIGN.md §4). With
``openai_response_format=json_schema`` the reply is constrained by a strict schema instead.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from fashionedit.contracts import PAPER_ANALYZE_PROMPT, BoxConvention, ImagePayload

from ..settings import AnalyzerSettings
from .openai_protocol import ChatDifferenceBackend, data_url, make_client

_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}

DIFFERENCES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "differences": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "box_2d": {"type": "array", "items": {"type": "number"}, "description": "[ymin, xmin, ymax, xmax] on 0-1000"},
                },
                "required": ["description", "box_2d"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["differences"],
    "additionalProperties": False,
}


def paper_prompt(k: int) -> str:
    """The paper's prompt, verbatim for k = 3; for another k only the number word changes."""
    if k == 3:
        return PAPER_ANALYZE_PROMPT
    return PAPER_ANALYZE_PROMPT.replace("the three detailed", f"the {_NUMBER_WORDS.get(k, str(k))} detailed", 1)


class OpenAIChatBackend(ChatDifferenceBackend):
    name = "openai-chat"
    provider = "the OpenAI API"

    def __init__(self, settings: AnalyzerSettings, client: Any | None = None) -> None:
        super().__init__(
            client=client
            or make_client(
                base_url=settings.openai_base_url,
                api_key=settings.openai_key(),
                timeout_s=settings.request_timeout_s,
                max_retries=settings.max_retries,
            ),
            model=settings.openai_model,
            temperature=settings.openai_temperature,
            reask_attempts=settings.reask_attempts,
            timeout_s=settings.request_timeout_s,
        )
        self.mode = settings.openai_response_format

    def messages(
        self, original: ImagePayload | Image.Image, generated: ImagePayload | Image.Image, k: int
    ) -> list[dict[str, Any]]:
        return [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": paper_prompt(k)},
                    {"type": "image_url", "image_url": {"url": data_url(original)}},
                    {"type": "image_url", "image_url": {"url": data_url(generated)}},
                ],
            }
        ]

    def response_format(self, k: int) -> dict[str, Any]:
        if self.mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "differences", "strict": True, "schema": DIFFERENCES_SCHEMA}}
        return {"type": "json_object"}

    def box_reading(self, original_size: tuple[int, int]) -> tuple[BoxConvention, tuple[int, int]]:
        # Asked for box_2d on 0-1000; values beyond 1000 are read as pixels of the original.
        return BoxConvention.YX_1000, original_size

    def reask_message(self, reason: str, k: int) -> str:
        return (
            f"Your answer could not be read: {reason}. Answer again with only a JSON object of the form "
            '{"differences": [{"description": "...", "box_2d": [ymin, xmin, ymax, xmax]}]} '
            f"with {k} item(s), box_2d normalized to 0-1000 on the first image."
        )

"""``flats``: technical flats drawn from the prompt by ``fashionedit.flats`` (offline, no weights, no torch).

The prompt is parsed into garment attributes; what it leaves unsaid is filled
with the garment type's most typical shape and nothing it did not ask for (no
pattern, belt or pockets); only an unsaid colour varies with the image's seed. Each PNG carries the attributes it was drawn from
(``fashionedit:garment`` text chunk). Steps and guidance do not apply.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import metadata

from PIL import Image

from fashionedit.contracts import ModelInfo, PromptTruncation, WeightsIdentity

from ..settings import GeneratorSettings
from .base import GeneratorBackend, ImageJob, RenderSettings


@functools.lru_cache(maxsize=512)
def _parse(prompt: str):  # parse once per prompt: generate() and warnings() both need it
    from fashionedit.flats import parse_caption

    return parse_caption(prompt)


class FlatsBackend(GeneratorBackend):
    max_side = 2048

    def __init__(self, backend: str = "flats") -> None:
        try:
            version = metadata.version("fashionedit-flats")
        except metadata.PackageNotFoundError:
            version = "unknown"
        self._info = ModelInfo(
            backend=backend,
            model_id="fashionedit.flats",
            weights=WeightsIdentity(name=f"fashionedit-flats {version} (procedural renderer)", source="none"),
            offline=True,
            random_weights=False,
            device="cpu",
        )

    @property
    def model_info(self) -> ModelInfo:
        return self._info

    def generate(self, settings: RenderSettings, jobs: Sequence[ImageJob]) -> list[Image.Image]:
        from fashionedit.flats import complete_attributes, render_flat

        return [
            render_flat(
                complete_attributes(_parse(job.prompt).attributes, job.seed, unrequested="plain"),
                size=(settings.width, settings.height),
            )
            for job in jobs
        ]

    def warnings(self, prompt: str, negative_prompt: str, truncation: PromptTruncation | None) -> list[str]:
        parsed = _parse(prompt)
        notes = []
        if parsed.unknown_words:
            notes.append(f"flats did not understand: {', '.join(parsed.unknown_words)}")
        if parsed.ignored_words:
            notes.append(f"flats does not draw: {', '.join(parsed.ignored_words)}")
        notes += [f"flats: {note}" if "not drawn" in note else f"flats approximated: {note}" for note in parsed.notes]
        attrs = parsed.attributes
        if (attrs.upper is None or attrs.upper.type is None) and (attrs.lower is None or attrs.lower.type is None):
            notes.append("flats found no garment type in the prompt (e.g. 'shirt', 'dress', 'trousers'); drew a default outfit")
        if negative_prompt.strip():
            notes.append("flats ignores negative_prompt")
        return notes


def load(settings: GeneratorSettings, *, backend: str = "flats") -> FlatsBackend:
    import fashionedit.flats  # noqa: F401 - fail at start-up (not ready), not on the first request

    return FlatsBackend(backend)

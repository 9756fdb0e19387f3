"""``local``: offline editing on this machine (needs the ``local`` extra).

* **image-into-prompt** (one reference): the reference is placed into the target box, or into the
  box where it matches the design best when none is given, and the seams are harmonised
  (classical, :mod:`..placement`). With real SD3 weights (or ``local_refine=sd3``) SD3 then
  refines the inside of the box.
* **text-as-prompt on a technical flat** (a PNG carrying its garment attributes): the instruction is
  parsed (``fashionedit.flats``), applied to the attributes and the flat re-rendered. Words the
  parser does not know are a 422 that names them.
* **text-as-prompt otherwise**: SD3 img2img with the instruction as the prompt.

Nothing here calls a network. Results say ``offline``; SD3 results with random weights say so.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from PIL import Image

from fashionedit.contracts import Box2D, ImagePayload, ModelInfo, WeightsIdentity
from fashionedit.services.common import InvalidInput, Unavailable

from ..settings import EditorSettings
from .base import EditBackend, EditJob, EditResult


MIN_SIDE, MAX_SIDE = 16, 4096


def _parse_size(size: str | None, default: tuple[int, int]) -> tuple[int, int]:
    if not size or size == "auto":
        return default
    width, _, height = size.partition("x")
    if not (MIN_SIDE <= int(width) <= MAX_SIDE and MIN_SIDE <= int(height) <= MAX_SIDE):
        raise InvalidInput.at(["size"], f"size {size} is outside {MIN_SIDE}-{MAX_SIDE} pixels per side for the local backend")
    return int(width), int(height)


class LocalBackend(EditBackend):
    name = "local"

    def __init__(self, settings: EditorSettings) -> None:
        self.settings = settings
        self.sd3: Any = None
        self._flats: Any = None
        self._placement: Any = None

    @property
    def max_references(self) -> int:
        return 1  # one reference goes into one box

    def load(self) -> None:
        try:
            from .. import placement
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("the local backend needs OpenCV: pip install 'fashionedit-editor[local]'") from exc
        self._placement = placement
        try:
            import fashionedit.flats as flats

            self._flats = flats if hasattr(flats, "render_flat") else None
        except ImportError:
            self._flats = None
        if self.settings.local_sd3_model is not None or self.settings.local_random_sd3:
            from ..sd3 import SD3Editor

            self.sd3 = SD3Editor.load(self.settings)

    def model_info(self) -> ModelInfo:
        if self.sd3 is not None:
            return self.sd3.model_info()
        return self._classical_info()

    def _classical_info(self) -> ModelInfo:
        return ModelInfo(
            backend=self.name,
            model_id=f"classical-placement ({self.settings.local_seam} seams)",
            weights=WeightsIdentity(name="none", source="none"),
            offline=True,
        )

    def _flats_info(self) -> ModelInfo:
        return ModelInfo(backend=self.name, model_id="fashionedit-flats (parse instruction, re-render)", weights=WeightsIdentity(name="none", source="none"), offline=True)

    async def edit(self, job: EditJob) -> EditResult:
        return await asyncio.to_thread(self._edit, job)

    # -- dispatch ------------------------------------------------------------------------------------
    def _edit(self, job: EditJob) -> EditResult:
        with job.watch.stage("decode"):
            image = job.image.to_pil()
        out_size = _parse_size(job.size, image.size)
        if job.references:
            return self._place(job, image, out_size)
        attributes = self._flat_attributes(job.image)
        if attributes is not None:
            return self._edit_flat(job, attributes, out_size)
        return self._img2img(job, image, out_size)

    def _encode(self, job: EditJob, image: Image.Image) -> ImagePayload:
        with job.watch.stage("encode"):
            return ImagePayload.from_pil(image)

    # -- image-into-prompt -----------------------------------------------------------------------------
    def _use_sd3_refine(self) -> bool:
        if self.settings.local_refine == "classical" or self.sd3 is None:
            return False
        return self.settings.local_refine == "sd3" or not self.sd3.random_weights

    def _place(self, job: EditJob, image: Image.Image, out_size: tuple[int, int]) -> EditResult:
        placement = self._placement
        reference = job.references[0].to_pil()
        design = np.asarray(image)
        width, height = image.size
        with job.watch.stage("locate"):
            if job.target_box is not None:
                box = job.target_box.to_pixels(width, height)
            else:
                match = placement.find_box(design, np.asarray(reference))
                if match.score < self.settings.local_match_min_score:
                    raise InvalidInput.at(
                        ["target_box"],
                        f"could not tell where the reference belongs (best match score {match.score:.2f} < "
                        f"{self.settings.local_match_min_score:.2f}); send target_box",
                    )
                box = match.box
        with job.watch.stage("place"):
            placed = Image.fromarray(
                placement.place_reference(design, np.asarray(reference), box, seam=self.settings.local_seam, feather=self.settings.local_feather),
                "RGB",
            )
        model = self._classical_info()
        prompt = job.instruction
        if self._use_sd3_refine():
            with job.watch.stage("refine"):
                placed = self.sd3.refine_box(
                    placed, box, job.instruction, strength=self.settings.local_refine_strength, seed=job.seed, feather=self.settings.local_feather
                )
            model = self.sd3.model_info()
        if placed.size != out_size:
            placed = placed.resize(out_size, Image.Resampling.BICUBIC)
        return EditResult(
            image=self._encode(job, placed),
            prompt=prompt,
            model=model,
            target_box=job.target_box or Box2D.from_pixels(tuple(box), width, height),
        )

    # -- text-as-prompt on a flat ----------------------------------------------------------------------
    def _flat_attributes(self, payload: ImagePayload) -> Any:
        if self._flats is None or payload.format != "PNG" or not payload.png_text():
            return None
        try:
            return self._flats.read_attributes(payload.to_bytes())
        except (ValueError, KeyError):
            return None  # metadata that is not a flat's: treat it as a picture

    def _edit_flat(self, job: EditJob, attributes: Any, out_size: tuple[int, int]) -> EditResult:
        flats = self._flats
        with job.watch.stage("parse"):
            result = flats.parse_instruction(job.instruction, attributes)
        words = ", ".join(repr(w) for w in result.unknown_words)
        if not result.changes:
            raise InvalidInput.at(
                ["instruction"],
                f"the instruction was not understood on this flat: no garment change found (unknown word(s) {words or 'none'}); "
                "name a garment part and a value, e.g. 'make the sleeves short' or 'add four white buttons'",
            )
        with job.watch.stage("render"):
            rendered = flats.render_flat(result.attributes, out_size)
        boxes = flats.part_boxes(result.attributes, out_size)
        changed = [boxes[c.part] for c in result.changes if c.part in boxes]
        target = None
        if changed:
            target = Box2D(
                (min(b.ymin for b in changed), min(b.xmin for b in changed), max(b.ymax for b in changed), max(b.xmax for b in changed))
            )
        # LMM-written instructions carry context words ("measured", "against the design"): apply what was
        # understood and say what was not, rather than refusing the whole edit.
        warnings = [f"not applied: unknown word(s) {words}"] if result.unknown_words else []
        return EditResult(image=self._encode(job, rendered), prompt=job.instruction, model=self._flats_info(), target_box=target, warnings=warnings)

    # -- text-as-prompt otherwise ----------------------------------------------------------------------
    def _img2img(self, job: EditJob, image: Image.Image, out_size: tuple[int, int]) -> EditResult:
        if self.sd3 is None:
            raise Unavailable(
                "text-as-prompt edits of a picture need SD3 weights here: set FASHIONEDIT_EDITOR_LOCAL_SD3_MODEL "
                "(or allow the offline tiny model with FASHIONEDIT_EDITOR_LOCAL_RANDOM_SD3=true), or send a reference image"
            )
        with job.watch.stage("img2img"):
            edited = self.sd3.img2img_edit(image, job.instruction, strength=self.settings.local_strength, seed=job.seed, out_size=out_size)
        return EditResult(image=self._encode(job, edited), prompt=job.instruction, model=self.sd3.model_info())


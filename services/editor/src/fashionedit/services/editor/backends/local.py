"""``local``: offline editing on this machine (needs the ``local`` extra).

A design here is an image plus, where it is a technical flat, its *state* in the PNG text: the garment
attributes (``fashionedit.flats``) and the references placed on it so far (``fashionedit.flats.layers``).
Every round keeps that state, so text and reference rounds can come in any order.

* **image-into-prompt** (one reference): on a flat the instruction's text is applied first when it can
  be parsed ("change the neckline to v-neck like this sketch"); then the reference is placed as a
  designer would (:func:`..placement.make_layer`: fitted inside the target box keeping its aspect ratio,
  its own plain background left out) into the target box, or the box where it matches the design best,
  never on top of a reference placed earlier. The placed layer joins the design's state. With real
  SD3 weights (or ``local_refine=sd3``) SD3 then refines the inside of the box.
* **text-as-prompt on a flat**: the instruction is parsed, applied to the attributes and the flat
  re-rendered with its placed layers laid over again (each moved with the part it sits on). An
  instruction with no understood change is a 422 that names the unknown words; a change that shows
  no pixel says so in ``warnings``.
* **text-as-prompt on a picture**: SD3 img2img, only with SD3 weights configured (or random weights
  explicitly allowed, which every response then says); otherwise a 503 naming what is missing.

Nothing here calls a network. Results say ``offline``; SD3 results with random weights say so.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
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
        # The random tiny SD3 is built only when asked for: its output is noise, and building it costs start-up time.
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
        return ModelInfo(
            backend=self.name,
            model_id="fashionedit-flats (parse instruction, re-render)",
            weights=WeightsIdentity(name="none", source="none"),
            offline=True,
        )

    def _flats_and_placement_info(self) -> ModelInfo:
        return self._classical_info().model_copy(
            update={"model_id": f"fashionedit-flats re-render + {self._classical_info().model_id}"}
        )

    async def edit(self, job: EditJob) -> EditResult:
        return await asyncio.to_thread(self._edit, job)

    # -- dispatch ------------------------------------------------------------------------------------
    def _edit(self, job: EditJob) -> EditResult:
        with job.watch.stage("decode"):
            image = job.image.to_pil()
        out_size = _parse_size(job.size, image.size)
        state = self._design_state(job.image)
        if job.references:
            return self._place(job, image.convert("RGB"), state, out_size)
        if state.attributes is not None:
            return self._edit_flat(job, image.convert("RGB"), state, out_size)
        return self._img2img(job, image, out_size)

    def _encode(self, job: EditJob, image: Image.Image) -> ImagePayload:
        with job.watch.stage("encode"):
            return ImagePayload.from_pil(image)

    def _with_state(self, image: Image.Image, state: DesignState, out_size: tuple[int, int]) -> Image.Image:
        """``image`` at the output size, carrying the design state (boxes are 0-1000, so a resize keeps them)."""
        if image.size != out_size:
            image = image.resize(out_size, Image.Resampling.BICUBIC)
        if self._flats is not None and (state.attributes is not None or state.layers):
            from fashionedit.flats import layers

            garment = state.attributes.model_dump_json(exclude_none=True) if state.attributes is not None else None
            layers.attach_state(image, garment, state.layers)
        return image

    # -- the design's state ----------------------------------------------------------------------------
    def _design_state(self, payload: ImagePayload) -> DesignState:
        if self._flats is None or payload.format != "PNG":
            return DesignState()
        text = payload.png_text()
        if not text:
            return DesignState()
        from fashionedit.flats import layers

        try:
            attributes = self._flats.read_attributes(payload.to_bytes())
        except (ValueError, KeyError):
            attributes = None  # metadata that is not a flat's: treat it as a picture
        return DesignState(attributes=attributes, layers=layers.read_layers(text))

    def _apply_text(
        self, job: EditJob, image: Image.Image, state: DesignState, *, required: bool
    ) -> tuple[Image.Image, DesignState, Any, list[str]]:
        """The instruction applied to a flat's attributes and the flat re-rendered with its layers.

        ``required``: a text round, where no understood change is a 422; in a reference round the text is optional.
        """
        flats = self._flats
        from fashionedit.flats import layers

        with job.watch.stage("parse"):
            result = flats.parse_instruction(job.instruction, state.attributes, with_reference=not required)
        words = ", ".join(repr(w) for w in result.unknown_words)
        # in a reference round, words that match the design already ("on the chest") say where the reference goes
        warnings = [note for note in result.notes if required or not note.startswith("no change:")]
        if not result.changes:
            # understood, but already so or not drawable: the design stays as it is and the warning says why
            already = any(note.startswith(("no change:", "not applied:")) for note in result.notes)
            if required and not already:
                raise InvalidInput.at(
                    ["instruction"],
                    "the instruction was not understood on this flat: no garment change found (unknown word(s) "
                    f"{words or 'none'}); "
                    "name a garment part and a value, e.g. 'make the sleeves short' or 'add four white buttons'"
                    + (f" ({'; '.join(result.notes)})" if result.notes else ""),
                )
            if result.unknown_words:
                warnings.append(f"text not applied: unknown word(s) {words}; only the reference was placed")
            return image, state, result, warnings
        # LMM-written instructions carry context words ("measured", "against the design"): apply what was
        # understood and say what was not, rather than refusing the whole edit.
        if result.unknown_words:
            warnings.append(f"not applied: unknown word(s) {words}")
        with job.watch.stage("render"):
            rendered, moved, notes = layers.render_design(result.attributes, state.layers, image.size)
        warnings += notes
        if np.array_equal(np.asarray(rendered), np.asarray(image)):
            fields = ", ".join(f"{c.field} {c.old!r} -> {c.new!r}" for c in result.changes)
            warnings.append(f"no visible change: {fields} is not drawn differently on this flat")
        return rendered, DesignState(result.attributes, moved), result, warnings

    # -- image-into-prompt -----------------------------------------------------------------------------
    def _use_sd3_refine(self) -> bool:
        if self.settings.local_refine == "classical" or self.sd3 is None:
            return False
        return self.settings.local_refine == "sd3" or not self.sd3.random_weights

    def _place(self, job: EditJob, image: Image.Image, state: DesignState, out_size: tuple[int, int]) -> EditResult:
        placement = self._placement
        warnings: list[str] = []
        text_changes: list[Any] = []
        if state.attributes is not None:
            image, state, result, warnings = self._apply_text(job, image, state, required=False)
            text_changes = result.changes
        reference = np.asarray(job.references[0].to_pil().convert("RGB"))
        design = np.asarray(image)
        width, height = image.size
        with job.watch.stage("locate"):
            named = None
            if job.target_box is None and state.attributes is not None:
                from fashionedit.flats import layers

                named = layers.box_from_words(job.instruction, state.attributes, (width, height))
            if job.target_box is not None:
                box = job.target_box.to_pixels(width, height)
            elif named is not None:
                # "on the chest", "on the left sleeve": where the instruction says, as a designer reads it
                box = named[0].to_pixels(width, height)
                warnings.append(f"placed on the {named[1]} as the instruction says (send target_box to choose the place)")
            else:
                avoid = [layer.box_2d.to_pixels(width, height) for layer in state.layers]
                match = placement.find_box(design, reference, avoid=avoid)
                if match.score < self.settings.local_match_min_score:
                    raise InvalidInput.at(
                        ["target_box"],
                        f"could not tell where the reference belongs (best match score {match.score:.2f} < "
                        f"{self.settings.local_match_min_score:.2f}"
                        + (f", away from the {len(avoid)} reference(s) placed before" if avoid else "")
                        + "); send target_box",
                    )
                box = match.box
        with job.watch.stage("place"):
            if self.settings.local_seam == "feather" or box.width < 3 or box.height < 3:
                layer = placement.make_layer(
                    design,
                    reference,
                    box,
                    feather=self.settings.local_feather,
                    keep_aspect=self.settings.local_keep_aspect,
                    remove_background=self.settings.local_remove_background,
                )
                placed_array = placement.lay(design, layer)
                if layer.background is not None:
                    warnings.append(f"the reference's plain background (RGB {layer.background}) was left out")
            else:
                # Poisson blending adapts the colours to the surroundings over the whole box.
                fitted = (
                    placement.fit_inside((reference.shape[1], reference.shape[0]), box)
                    if self.settings.local_keep_aspect
                    else box
                )
                placed_array = placement.place_reference(
                    design, reference, fitted, seam=self.settings.local_seam, feather=self.settings.local_feather
                )
                layer = placement.Layer(
                    np.dstack(
                        [
                            placed_array[fitted.y0 : fitted.y1, fitted.x0 : fitted.x1],
                            np.full((fitted.height, fitted.width), 255, np.uint8),
                        ]
                    ),
                    fitted,
                    None,
                )
            placed = Image.fromarray(placed_array, "RGB")
        model = self._flats_and_placement_info() if text_changes else self._classical_info()
        if self._use_sd3_refine():
            with job.watch.stage("refine"):
                placed = self.sd3.refine_box(
                    placed,
                    box,
                    job.instruction,
                    strength=self.settings.local_refine_strength,
                    seed=job.seed,
                    feather=self.settings.local_feather,
                )
            model = self.sd3.model_info()
            if self.sd3.random_weights:
                warnings.append(
                    "RANDOM WEIGHTS: the inside of the box was refined by a tiny random-weight SD3 (LOCAL_REFINE=sd3); "
                    "it is noise, not a design"
                )
            refined = np.asarray(placed)[layer.box.y0 : layer.box.y1, layer.box.x0 : layer.box.x1]
            layer = placement.Layer(np.dstack([refined, layer.rgba[..., 3]]), layer.box, layer.background)
        state = self._add_layer(state, layer, job.instruction, (width, height))
        if text_changes:
            fields = ", ".join(c.field for c in text_changes)
            warnings.insert(0, f"applied from the text as well: {fields}")
        return EditResult(
            image=self._encode(job, self._with_state(placed, state, out_size)),
            prompt=job.instruction,
            model=model,
            target_box=job.target_box or Box2D.from_pixels(tuple(box), width, height),
            warnings=warnings,
        )

    def _add_layer(self, state: DesignState, layer: Any, instruction: str, size: tuple[int, int]) -> DesignState:
        if self._flats is None:
            return state
        from fashionedit.flats import layers

        box = Box2D.from_pixels(tuple(layer.box), *size)
        anchor, anchor_box = layers.anchor_for(box, state.attributes, size)
        placed = layers.PlacedLayer(
            box_2d=box,
            png=layers.encode_layer_pixels(layer.rgba),
            anchor=anchor,
            anchor_box=anchor_box,
            instruction=instruction[:2000],
        )
        return DesignState(state.attributes, [*state.layers, placed])

    # -- text-as-prompt on a flat ----------------------------------------------------------------------
    def _edit_flat(self, job: EditJob, image: Image.Image, state: DesignState, out_size: tuple[int, int]) -> EditResult:
        if image.size != out_size:
            image = image.resize(out_size, Image.Resampling.BICUBIC)
        rendered, new_state, result, warnings = self._apply_text(job, image, state, required=True)
        boxes = self._flats.part_boxes(result.attributes, out_size)
        changed = [boxes[c.part] for c in result.changes if c.part in boxes]
        target = None
        if changed:
            target = Box2D(
                (
                    min(b.ymin for b in changed),
                    min(b.xmin for b in changed),
                    max(b.ymax for b in changed),
                    max(b.xmax for b in changed),
                )
            )
        return EditResult(
            image=self._encode(job, self._with_state(rendered, new_state, out_size)),
            prompt=job.instruction,
            model=self._flats_info(),
            target_box=target,
            warnings=warnings,
        )

    # -- text-as-prompt otherwise ----------------------------------------------------------------------
    def _img2img(self, job: EditJob, image: Image.Image, out_size: tuple[int, int]) -> EditResult:
        if self.sd3 is None:
            raise Unavailable(
                "this design is a picture, not a technical flat (its PNG carries no fashionedit:garment attributes), and the "
                "offline editor can only re-render technical flats: text-as-prompt edits of a picture need SD3 weights, which "
                "are not configured (set FASHIONEDIT_EDITOR_LOCAL_SD3_MODEL to a diffusers folder); or send a reference image "
                "with a target_box"
            )
        with job.watch.stage("img2img"):
            edited = self.sd3.img2img_edit(
                image, job.instruction, strength=self.settings.local_strength, seed=job.seed, out_size=out_size
            )
        warnings = []
        if self.sd3.random_weights:
            warnings.append(
                "RANDOM WEIGHTS: this edit comes from a tiny random-weight SD3 (FASHIONEDIT_EDITOR_LOCAL_RANDOM_SD3=true); "
                "its output is noise, not a design"
            )
        return EditResult(image=self._encode(job, edited), prompt=job.instruction, model=self.sd3.model_info(), warnings=warnings)


@dataclass
class DesignState:
    """What the PNG says about a design: a flat's garment attributes (None for a picture) and its placed layers."""

    attributes: Any = None
    layers: list[Any] = field(default_factory=list)

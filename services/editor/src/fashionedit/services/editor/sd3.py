"""SD3 for the local backend: img2img for text-as-prompt, and refinement restricted to a box.

Loaded through ``from_pretrained`` from a diffusers folder or a cached hub id, exactly like real
weights. Without weights, and only when random weights are explicitly allowed (tests), a tiny
random-weight SD3 is built with ``fashionedit.tinymodels`` into a temporary folder that is removed
once loaded (every response then says ``random_weights``).

Box refinement uses ``StableDiffusion3InpaintPipeline`` when the transformer takes inpainting
inputs (16 or 33 latent channels, as SD3-medium does); otherwise img2img on a crop around the box.
Either way only pixels inside the box change.
"""

from __future__ import annotations

import logging
import random
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from fashionedit.contracts import ModelInfo, WeightsIdentity
from fashionedit.contracts.boxes import PixelBox
from fashionedit.services.common.devices import device_and_dtype

from .placement import blend_into_box
from .settings import EditorSettings

# Written beside random weights by fashionedit.tinymodels; duplicated so that loading real weights does not need
# the test-model builder, which production images leave out.
RANDOM_WEIGHTS_MARKER = "fashionedit_random_weights.json"

log = logging.getLogger("fashionedit.editor")

_OPTIONAL_COMPONENTS = ("text_encoder_3", "tokenizer_3", "image_encoder", "feature_extractor")


def _spec_name(source: str) -> str:
    """A random build's spec (from the marker fashionedit.tinymodels writes), e.g. 'sd3-tiny'."""
    import json

    try:
        return str(json.loads((Path(source) / RANDOM_WEIGHTS_MARKER).read_text()).get("spec") or "sd3")
    except (OSError, ValueError):
        return "sd3"


def _missing_components(source: str) -> dict[str, None]:
    """Components a folder leaves out (a tiny SD3 has no T5): passed as None so loading does not insist."""
    from diffusers import DiffusionPipeline

    config = DiffusionPipeline.load_config(source)
    return {name: None for name in _OPTIONAL_COMPONENTS if (config.get(name) or [None])[0] is None}


@dataclass
class SD3Editor:
    img2img: Any
    inpaint: Any | None
    source: str
    random_weights: bool
    device: str
    dtype: str
    multiple: int  # width and height must be multiples of this (VAE factor x patch size)
    steps: int
    guidance: float
    lock: threading.Lock
    spec: str | None = None  # the random build's spec name, e.g. 'sd3-tiny'

    @classmethod
    def load(cls, settings: EditorSettings) -> SD3Editor:
        source = settings.local_sd3_model
        if source is not None:
            return cls._from_folder(settings, source, name=source)
        from fashionedit.tinymodels import save_sd3_pipeline

        # Built, loaded through from_pretrained like real weights, then removed: nothing is left in /tmp, and
        # the identity is the spec's name (the build is seeded), the same on every start.
        with tempfile.TemporaryDirectory(prefix="fashionedit-editor-") as tmp:
            log.warning(
                "no SD3 weights configured and random weights allowed: building a tiny random-weight SD3 (noise, tests only)"
            )
            folder = save_sd3_pipeline(Path(tmp) / "sd3-tiny")
            return cls._from_folder(settings, str(folder), name=None)

    @classmethod
    def _from_folder(cls, settings: EditorSettings, source: str, *, name: str | None) -> SD3Editor:
        from diffusers import StableDiffusion3Img2ImgPipeline, StableDiffusion3InpaintPipeline

        random_weights = (Path(source) / RANDOM_WEIGHTS_MARKER).is_file()
        spec = _spec_name(source) if random_weights else None
        device, dtype = device_and_dtype(settings.local_device, settings.local_dtype)
        img2img = StableDiffusion3Img2ImgPipeline.from_pretrained(source, torch_dtype=dtype, **_missing_components(source)).to(
            device
        )
        img2img.set_progress_bar_config(disable=True)
        inpaint = None
        if img2img.transformer.config.in_channels in (16, 33):
            inpaint = StableDiffusion3InpaintPipeline.from_pipe(img2img)
            inpaint.set_progress_bar_config(disable=True)
        multiple = int(img2img.vae_scale_factor) * int(img2img.transformer.config.patch_size)
        return cls(
            img2img=img2img,
            inpaint=inpaint,
            source=name or f"{spec} (built at start-up, seed 0)",
            random_weights=random_weights,
            device=device,
            dtype=str(dtype).removeprefix("torch."),
            multiple=multiple,
            steps=settings.local_steps,
            guidance=settings.local_guidance,
            lock=threading.Lock(),
            spec=spec,
        )

    def model_info(self) -> ModelInfo:
        local = Path(self.source).is_dir()
        return ModelInfo(
            backend="local",
            model_id=f"{self.spec or 'sd3'} (random weights)" if self.random_weights else self.source,
            weights=WeightsIdentity(name=self.source, source="random" if self.random_weights else ("local" if local else "hub")),
            offline=True,
            random_weights=self.random_weights,
            device=self.device,
            dtype=self.dtype,
        )

    # -- helpers -----------------------------------------------------------------------------------
    def _work_size(self, size: tuple[int, int]) -> tuple[int, int]:
        m = self.multiple
        return max(m, size[0] // m * m), max(m, size[1] // m * m)

    def _generator(self, seed: int | None) -> tuple[Any, int]:
        import torch

        seed = random.randrange(2**32) if seed is None else seed
        return torch.Generator(device="cpu").manual_seed(seed), seed

    # -- edits ---------------------------------------------------------------------------------------
    def img2img_edit(
        self, image: Image.Image, prompt: str, *, strength: float, seed: int | None, out_size: tuple[int, int]
    ) -> Image.Image:
        """Text-as-prompt: the whole design through img2img, at the output size."""
        work = self._work_size(out_size)
        generator, _ = self._generator(seed)
        with self.lock:  # one pipeline call at a time: diffusers pipelines are not thread-safe
            result = self.img2img(
                prompt=prompt,
                image=image.resize(work, Image.Resampling.BICUBIC),
                strength=strength,
                num_inference_steps=self.steps,
                guidance_scale=self.guidance,
                negative_prompt="",
                generator=generator,
            ).images[0]
        return result.resize(out_size, Image.Resampling.BICUBIC) if result.size != out_size else result

    def refine_box(
        self, image: Image.Image, box: PixelBox, prompt: str, *, strength: float, seed: int | None, feather: float
    ) -> Image.Image:
        """Harmonise a placed reference with SD3, changing only the pixels inside ``box``."""
        generator, _ = self._generator(seed)
        width, height = image.size
        if self.inpaint is not None:
            work = self._work_size(image.size)
            mask = Image.new("L", image.size, 0)
            mask.paste(255, (box.x0, box.y0, box.x1, box.y1))
            with self.lock:
                result = self.inpaint(
                    prompt=prompt,
                    image=image.resize(work, Image.Resampling.BICUBIC),
                    mask_image=mask.resize(work, Image.Resampling.NEAREST),
                    width=work[0],
                    height=work[1],
                    strength=strength,
                    num_inference_steps=self.steps,
                    guidance_scale=self.guidance,
                    generator=generator,
                ).images[0]
            refined = result.resize(image.size, Image.Resampling.BICUBIC)
            patch = np.asarray(refined)[box.y0 : box.y1, box.x0 : box.x1]
        else:
            # img2img on a crop around the box (context for the model), pasted back inside the box only.
            margin = max(box.width, box.height) // 4
            crop = PixelBox(
                max(0, box.x0 - margin), max(0, box.y0 - margin), min(width, box.x1 + margin), min(height, box.y1 + margin)
            )
            region = image.crop(crop)
            work = self._work_size(region.size)
            with self.lock:
                result = self.img2img(
                    prompt=prompt,
                    image=region.resize(work, Image.Resampling.BICUBIC),
                    strength=strength,
                    num_inference_steps=self.steps,
                    guidance_scale=self.guidance,
                    generator=generator,
                ).images[0]
            refined = np.asarray(result.resize(region.size, Image.Resampling.BICUBIC))
            patch = refined[box.y0 - crop.y0 : box.y1 - crop.y0, box.x0 - crop.x0 : box.x1 - crop.x0]
        out = blend_into_box(np.asarray(image.convert("RGB")), patch, box, feather)
        return Image.fromarray(out, "RGB")

"""Any diffusers text-to-image pipeline (SD3, SD3.5, SD2, ...) loaded through one code path.

``AutoPipelineForText2Image.from_pretrained`` reads ``model_index.json`` and
builds the right pipeline class, so the ``sd3`` and ``sd2`` backends (and
``tiny``, a random-weight SD3 folder) differ only in the model they point at.
Heavy imports stay inside functions: importing this module costs nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from fashionedit.contracts import ModelInfo, PromptTruncation, WeightsIdentity
from fashionedit.services.common import InvalidInput
from fashionedit.services.common.devices import device_and_dtype

from ..settings import GeneratorSettings
from .base import GeneratorBackend, ImageJob, RenderSettings

log = logging.getLogger(__name__)


class WeightsUnavailable(RuntimeError):
    """The configured weights cannot be loaded here; the message says what to do."""


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _looks_local(model: str) -> bool:
    return model.startswith(("/", "./", "../", "~")) or Path(model).expanduser().exists()


def load_pipeline(model: str, settings: GeneratorSettings, device: str, dtype: Any) -> Any:
    """``from_pretrained`` with the settings applied; missing weights become :class:`WeightsUnavailable`."""
    from diffusers import AutoPipelineForText2Image

    local = _looks_local(model)
    if local and not (Path(model).expanduser() / "model_index.json").is_file():
        raise WeightsUnavailable(
            f"{model} is not a diffusers pipeline folder (no model_index.json); point FASHIONEDIT_GENERATOR_MODEL "
            "at a folder saved with save_pretrained or a downloaded snapshot"
        )
    source = str(Path(model).expanduser()) if local else model
    kwargs: dict[str, Any] = {_dtype_keyword(): dtype, **absent_components(source)}
    if settings.drop_t5:
        kwargs.update(text_encoder_3=None, tokenizer_3=None)
    try:
        pipe = AutoPipelineForText2Image.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        if local:
            raise WeightsUnavailable(f"could not load the pipeline in {model}: {exc}") from exc
        hint = (
            "HF_HUB_OFFLINE=1 forbids downloading; download the weights into the Hugging Face cache first "
            "(huggingface-cli download " + model + ") or set FASHIONEDIT_GENERATOR_MODEL to a local pipeline folder"
            if _hub_offline()
            else "check the model id and your Hugging Face access (gated models need a token and an accepted licence), "
            "or set FASHIONEDIT_GENERATOR_MODEL to a local pipeline folder"
        )
        raise WeightsUnavailable(f"weights for {model!r} are not available: {hint}") from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _dtype_keyword() -> str:
    """diffusers renamed ``torch_dtype`` to ``dtype`` (and deprecates the old name) in recent releases."""
    from diffusers.pipelines import pipeline_utils

    return "dtype" if hasattr(pipeline_utils, "_resolve_dtype") else "torch_dtype"


def absent_components(source: str) -> dict[str, None]:
    """Components that ``model_index.json`` lists as ``[null, null]`` (e.g. SD3 saved without T5).

    diffusers refuses to load such a folder unless those components are passed
    as ``None`` explicitly; the folder itself says they are absent.
    """
    from diffusers import DiffusionPipeline

    try:
        index = DiffusionPipeline.load_config(source)
    except (OSError, ValueError):
        return {}  # not available here: from_pretrained reports it properly
    return {
        name: None
        for name, value in index.items()
        if not name.startswith("_")
        and isinstance(value, (list, tuple))
        and len(value) == 2
        and value[0] is None
        and value[1] is None
    }


def place_pipeline(pipe: Any, settings: GeneratorSettings, device: str) -> None:
    """Device placement and the optimisations that leave the model unchanged."""
    import torch

    if settings.cpu_offload != "none":
        if settings.cpu_offload == "model":
            pipe.enable_model_cpu_offload(device=device)
        else:
            pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(device)
    if settings.channels_last_vae:
        pipe.vae.to(memory_format=torch.channels_last)
    if settings.compile:
        name = "transformer" if getattr(pipe, "transformer", None) is not None else "unet"
        setattr(pipe, name, torch.compile(getattr(pipe, name), mode=settings.compile_mode, fullgraph=True))


def denoiser_max_side(pipe: Any) -> int:
    """SD3-style transformers have a fixed positional-embedding grid; beyond it they cannot render."""
    transformer = getattr(pipe, "transformer", None)
    config = getattr(transformer, "config", None)
    pos = getattr(config, "pos_embed_max_size", None)
    if config is None or pos is None:
        return 2048
    return int(pos) * int(config.patch_size) * int(getattr(pipe, "vae_scale_factor", 8))


class DiffusersBackend(GeneratorBackend):
    def __init__(
        self, pipe: Any, *, backend: str, model_id: str, device: str, dtype: Any, weights: WeightsIdentity, random_weights: bool
    ) -> None:
        self.pipe = pipe
        self.device = device
        self.max_side = min(2048, denoiser_max_side(pipe))
        # Generators live where the latents are drawn; MPS has no device generators.
        self._generator_device = "cpu" if device.startswith("mps") else device
        self._has_t5 = getattr(pipe, "text_encoder_3", None) is not None
        self._info = ModelInfo(
            backend=backend,
            model_id=model_id,
            weights=weights,
            offline=random_weights,
            random_weights=random_weights,
            device=device,
            dtype=str(dtype).removeprefix("torch."),
        )

    @classmethod
    def load(cls, settings: GeneratorSettings, *, backend: str, model: str, model_id: str | None = None) -> DiffusersBackend:
        # The paper ran SD3-medium in fp16 on CUDA; a Mac developer gets MPS.
        device, dtype = device_and_dtype(settings.device, settings.dtype, allow_mps=True)
        if settings.cpu_offload != "none" and not device.startswith("cuda"):
            raise WeightsUnavailable(f"cpu_offload={settings.cpu_offload} needs a CUDA device; the device is {device}")
        pipe = load_pipeline(model, settings, device, dtype)
        place_pipeline(pipe, settings, device)
        local = _looks_local(model)
        random_weights = local and _is_random_weights(Path(model).expanduser())
        weights = WeightsIdentity(name=model, source="random" if random_weights else ("local" if local else "hub"))
        backend_obj = cls(
            pipe,
            backend=backend,
            model_id=model_id or model,
            device=device,
            dtype=dtype,
            weights=weights,
            random_weights=random_weights,
        )
        log.info("loaded %s (%s) on %s as %s", model, type(pipe).__name__, device, backend_obj.model_info.dtype)
        if settings.warmup:
            side = min(backend_obj.max_side, 1024)
            backend_obj.generate(RenderSettings(side, side, 2, 7.0), [ImageJob("warm-up", "", 0)])
        return backend_obj

    @property
    def model_info(self) -> ModelInfo:
        return self._info

    def check(self, settings: RenderSettings) -> None:
        for field, side in (("width", settings.width), ("height", settings.height)):
            if side > self.max_side:
                raise InvalidInput.at(
                    [field],
                    f"{field} {side} is larger than this model can render ({self.max_side} px); send at most {self.max_side}",
                )

    def generate(self, settings: RenderSettings, jobs: Sequence[ImageJob]) -> list[Image.Image]:
        import torch

        generators = [torch.Generator(self._generator_device).manual_seed(job.seed) for job in jobs]
        result = self.pipe(
            prompt=[job.prompt for job in jobs],
            negative_prompt=[job.negative_prompt for job in jobs],
            width=settings.width,
            height=settings.height,
            num_inference_steps=settings.steps,
            guidance_scale=settings.guidance,
            num_images_per_prompt=1,
            generator=generators,
            output_type="pil",
        )
        return list(result.images)

    def prompt_truncation(self, prompt: str) -> PromptTruncation | None:
        tokenizer = getattr(self.pipe, "tokenizer", None)
        if tokenizer is None:
            return None
        limit = int(getattr(self.pipe, "tokenizer_max_length", None) or min(tokenizer.model_max_length, 77))
        ids = tokenizer(prompt, truncation=False, add_special_tokens=True, verbose=False).input_ids
        if len(ids) <= limit:
            return None
        # Same cut as the pipeline: the window keeps BOS + limit-2 tokens + EOS.
        removed = tokenizer.decode(ids[limit - 1 : -1], skip_special_tokens=True, clean_up_tokenization_spaces=False)
        return PromptTruncation(encoder="clip", max_tokens=limit, token_count=len(ids), truncated_text=_tail_of(prompt, removed))

    def warnings(self, prompt: str, negative_prompt: str, truncation: PromptTruncation | None) -> list[str]:
        if truncation is None:
            return []
        if self._has_t5:
            return [
                "the prompt is longer than CLIP's 77 tokens: the CLIP encoders read the start only, T5 reads up to 256 tokens"
            ]
        return [
            "the prompt is longer than CLIP's 77 tokens and no T5 encoder is loaded: the text in prompt_truncation is ignored"
        ]


def _tail_of(prompt: str, removed: str) -> str:
    """The caller's own text for the cut-off part (CLIP's decode lower-cases and spaces out punctuation).

    BPE keeps every non-space character, so the cut sits where the prompt's
    non-space characters run out the kept ones; fall back to the decoded text
    when normalisation (e.g. unicode fixes) breaks that correspondence.
    """
    wanted = "".join(removed.split())
    position, seen = len(prompt), 0
    for index in range(len(prompt) - 1, -1, -1):
        if not prompt[index].isspace():
            seen += 1
            if seen == len(wanted):
                position = index
                break
    tail = prompt[position:].strip()
    return tail if "".join(tail.lower().split()) == wanted else removed


def _is_random_weights(directory: Path) -> bool:
    try:
        from fashionedit.tinymodels import is_random_weights
    except ImportError:  # a deployment without the tiny builders can still carry the marker file
        return (directory / "fashionedit_random_weights.json").is_file()
    return is_random_weights(directory)


def load(settings: GeneratorSettings, *, backend: str) -> DiffusersBackend:
    model = settings.model_for_backend()
    assert model is not None
    return DiffusersBackend.load(settings, backend=backend, model=model)

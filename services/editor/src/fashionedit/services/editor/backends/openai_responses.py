"""``openai-responses``: the paper's method, the Responses API with the ``image_generation`` tool.

Content is ``input_text`` (the composed prompt) then ``input_image`` data URLs in the paper's order:
the current design, then the reference(s). The edited image is the ``result`` of the
``image_generation_call`` output item. The target box, when given, goes in as the tool's
``input_image_mask`` (transparent where the edit belongs).
"""

from __future__ import annotations

import base64
from typing import Any, cast

from openai.types.responses import ResponseInputParam, ToolParam

from fashionedit.contracts import ModelInfo, Usage
from fashionedit.services.common import UpstreamError

from .base import EditJob, EditResult
from .openai_common import OpenAIBackend, box_mask_png, decode_result_image


class OpenAIResponsesBackend(OpenAIBackend):
    name = "openai-responses"

    def model_info(self) -> ModelInfo:
        return self._model_info(self.settings.responses_model)

    def tool(self, job: EditJob) -> dict[str, Any]:
        tool: dict[str, Any] = {"type": "image_generation", **self.tool_options(job)}
        if self.settings.responses_image_model:
            tool["model"] = self.settings.responses_image_model
        if job.target_box is not None:
            mask = box_mask_png(job.target_box, job.image.size)
            tool["input_image_mask"] = {"image_url": "data:image/png;base64," + base64.b64encode(mask).decode("ascii")}
        return tool

    def content(self, job: EditJob) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = [{"type": "input_text", "text": job.prompt}]
        for image in [job.image, *job.references]:  # paper's order: current design, then reference(s)
            parts.append({"type": "input_image", "image_url": image.to_data_url()})
        return parts

    async def edit(self, job: EditJob) -> EditResult:
        kwargs: dict[str, Any] = {}
        if self.settings.responses_force_tool:
            kwargs["tool_choice"] = {"type": "image_generation"}
        async with self.calling(job) as client:
            response = await client.responses.create(
                model=self.settings.responses_model,
                # plain dicts in the wire form (the SDK's TypedDicts demand fields the API defaults)
                input=cast(ResponseInputParam, [{"role": "user", "content": self.content(job)}]),
                tools=[cast(ToolParam, self.tool(job))],
                extra_headers=self.request_headers(job),
                **kwargs,
            )
            image, revised = self._extract(response)
        usage = None
        u = getattr(response, "usage", None)
        if u is not None:
            usage = Usage(input_tokens=u.input_tokens, output_tokens=u.output_tokens, total_tokens=u.total_tokens, images=1)
        model = self._model_info(getattr(response, "model", None) or self.settings.responses_model)
        return EditResult(
            image=image, prompt=job.prompt, model=model, usage=usage, revised_prompt=revised, target_box=job.target_box
        )

    def _extract(self, response: Any) -> tuple[Any, str | None]:
        output = getattr(response, "output", None)
        if not isinstance(output, list):
            raise UpstreamError("the provider's answer was malformed (no output list); retry the edit")
        calls = [item for item in output if getattr(item, "type", None) == "image_generation_call"]
        for call in calls:
            if getattr(call, "status", None) == "failed":
                error = getattr(call, "error", None) or {}
                message = error.get("message") if isinstance(error, dict) else getattr(error, "message", None)
                raise UpstreamError(f"the provider's image tool failed: {self._clean(message or 'no reason given')}")
            if getattr(call, "result", None):
                return decode_result_image(call.result, "image_generation_call result"), getattr(call, "revised_prompt", None)
        refusals, texts = [], []
        for item in output:
            for part in getattr(item, "content", None) or []:
                if getattr(part, "type", None) == "refusal":
                    refusals.append(str(getattr(part, "refusal", "")))
                elif getattr(part, "type", None) == "output_text":
                    texts.append(str(getattr(part, "text", "")))
        if refusals:
            raise UpstreamError(f"the model refused the edit: {self._clean(' '.join(refusals))}")
        said = " ".join(texts).strip()
        raise UpstreamError(
            "the model answered without an image"
            + (f": {self._clean(said)[:300]!r}" if said else "")
            + "; rephrase the instruction or set FASHIONEDIT_EDITOR_RESPONSES_FORCE_TOOL=true"
        )

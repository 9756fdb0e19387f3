"""A local server that speaks the OpenAI HTTP protocol for the endpoints this project uses.

Endpoints (wire format as the real API, parsed by the official ``openai`` SDK):

* ``POST /v1/responses``: ``input`` messages with ``input_text`` / ``input_image`` parts and an
  ``image_generation`` tool → an ``image_generation_call`` output item (base64 PNG in ``result``)
  followed by an assistant ``message`` item, plus ``usage``.
* ``POST /v1/images/edits``: multipart with one ``image`` or several ``image[]`` parts, optional
  ``mask`` → ``{"created", "data": [{"b64_json"}], "usage", ...}``.
* ``POST /v1/chat/completions``: ``text`` and ``image_url`` parts, ``response_format`` ``json_object``
  or ``json_schema`` → ``{"differences": [{"description", "box_2d"}]}`` computed from the two images.

Control API (for tests and benchmarks), under ``/_control/``:

* ``POST /_control/script`` ``{"endpoint": "responses"|"images"|"chat"|"*", "replies": [...]}``: replies
  consumed FIFO per endpoint (the endpoint's own queue first, then ``"*"``); see :data:`REPLY_FIELDS`.
* ``GET /_control/script``: the replies not consumed yet.
* ``GET /_control/requests[?endpoint=...]``: every request received, images summarised (sha256, size).
* ``POST /_control/reset``: clear script and log.  ``POST /_control/config`` ``{"latency_s": ...}``.
* ``GET /health``.

Every error status answers in OpenAI's error format ``{"error": {"message", "type", "param", "code"}}``.
Slow answers use ``asyncio.sleep`` and image work runs in worker threads, so many concurrent slow
requests are served in parallel, not one after another.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import images as img

ENDPOINTS = ("responses", "images", "chat")
SCRIPT_TARGETS = ENDPOINTS + ("*",)

# Fields a scripted reply may set, and what they do.
REPLY_FIELDS: dict[str, str] = {
    # any endpoint
    "status": "HTTP status to answer with (e.g. 429, 500, 503); >= 400 answers in OpenAI's error format",
    "headers": "extra response headers, e.g. {'Retry-After': '1'} or {'retry-after-ms': '200'}",
    "error": "for error statuses: overrides of the error object ({'message', 'type', 'param', 'code'}) or a message string",
    "json": "a raw JSON body to answer with, instead of the computed one",
    "body": "a raw text body to answer with (content type from headers, default application/json)",
    "delay_s": "seconds to wait before answering (instead of the configured latency)",
    "times": "how many requests this reply answers before it is used up (default 1)",
    # chat
    "content": "chat: exact assistant message text (a dict or list is JSON-encoded)",
    "refusal": "chat and responses: answer with this refusal instead of content / an image",
    "finish_reason": "chat: finish_reason of the choice (default 'stop')",
    "k": "chat: how many differences the computed answer lists (default 3)",
    "box_convention": (
        "chat: 'box_2d' (default), 'qwen2.5-vl' (bbox_2d x-first, pixels of the smart-resized image 1) "
        "or 'qwen3-vl' (bbox_2d x-first, 0-1000)"
    ),
    "bare_list": "chat: answer with the bare list of differences instead of {'differences': [...]}",
    "wrap": "chat: 'json' (default), 'fenced' (```json block with prose) or 'python' (Python literal)",
    # responses
    "no_image": "responses: answer with only a message item (text from 'text'); images: answer with empty data",
    "text": "responses: text of the assistant message item",
    "image_status": "responses: status of the image_generation_call item, e.g. 'failed' (then result is null)",
    "image_b64": "responses and images: base64 image to return instead of the computed one",
    "echo_key": "any endpoint: echo the caller's API key (whole and masked) into every text field of the answer or error",
}

# Fields that carry image data, not text: an echoed key there would only break the image.
_NOT_TEXT = frozenset({"b64_json", "result", "image_url", "url", "id", "object", "type", "role", "status", "finish_reason"})


def echo_key_into(value: Any, key: str, field_name: str | None = None) -> Any:
    """``value`` with ``key`` (and OpenAI's masked form of it) added to every text field, as leaky proxies do."""
    masked = key[:3] + "*" * 12 + key[-4:]
    if isinstance(value, dict):
        return {k: echo_key_into(v, key, k) for k, v in value.items()}
    if isinstance(value, list):
        return [echo_key_into(v, key, field_name) for v in value]
    if isinstance(value, str) and field_name not in _NOT_TEXT and not value.startswith("data:"):
        if field_name == "content":
            try:  # keep a JSON answer readable: echo into its strings instead
                return json.dumps(echo_key_into(json.loads(value), key))
            except ValueError:
                pass
        return f"{value} [key {key} / {masked}]"
    return value


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, *, type: str = "invalid_request_error", param: str | None = None, code: str | None = None
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.log: dict[str, Any] = {}


_DEFAULT_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to access this resource.", "invalid_request_error", None),
    404: ("The requested resource does not exist.", "invalid_request_error", None),
    408: ("Request timed out.", "timeout", None),
    409: ("Conflict.", "invalid_request_error", None),
    429: ("Rate limit reached for requests. Please try again later.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The server is overloaded or not ready yet.", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}


def error_body(status: int, message: str | None = None, **overrides: Any) -> dict[str, Any]:
    default_message, default_type, default_code = _DEFAULT_ERRORS.get(
        status, ("Error.", "server_error" if status >= 500 else "invalid_request_error", None)
    )
    error = {"message": message or default_message, "type": default_type, "param": None, "code": default_code}
    error.update({k: v for k, v in overrides.items() if k in ("message", "type", "param", "code")})
    return {"error": error}


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


# -- state -------------------------------------------------------------------------------------


@dataclass
class ServerState:
    api_key: str | None = None
    latency_s: float = 0.0
    scripts: dict[str, deque[dict[str, Any]]] = field(default_factory=lambda: {t: deque() for t in SCRIPT_TARGETS})
    log: list[dict[str, Any]] = field(default_factory=list)
    seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    def take(self, endpoint: str) -> dict[str, Any] | None:
        for target in (endpoint, "*"):
            queue = self.scripts[target]
            if queue:
                reply = queue[0]
                reply["_left"] -= 1
                if reply["_left"] <= 0:
                    queue.popleft()
                return {k: v for k, v in reply.items() if k != "_left"}
        return None

    def reset(self) -> None:
        for queue in self.scripts.values():
            queue.clear()
        self.log.clear()


def validate_reply(reply: Any) -> dict[str, Any]:
    if not isinstance(reply, dict):
        raise ApiError(400, f"a scripted reply must be an object, got {type(reply).__name__}")
    unknown = sorted(set(reply) - set(REPLY_FIELDS))
    if unknown:
        raise ApiError(400, f"unknown scripted reply field(s) {unknown}; known: {sorted(REPLY_FIELDS)}")
    times = reply.get("times", 1)
    if not isinstance(times, int) or times < 1:
        raise ApiError(400, f"'times' must be a positive integer, got {times!r}")
    if "status" in reply and not (isinstance(reply["status"], int) and 100 <= reply["status"] <= 599):
        raise ApiError(400, f"'status' must be an HTTP status code, got {reply['status']!r}")
    out = dict(reply)
    out["_left"] = times
    out.pop("times", None)
    return out


# -- request helpers ----------------------------------------------------------------------------

_SECRET_HEADERS = ("authorization", "api-key", "openai-api-key", "cookie", "proxy-authorization")


def logged_headers(request: Request) -> dict[str, str]:
    return {k: ("<redacted>" if k in _SECRET_HEADERS else v) for k, v in request.headers.items()}


def redact_data_urls(value: Any, seen: dict[str, str] | None = None) -> Any:
    """Keep the logged JSON small: a data URL becomes a one-line summary of the image it carries."""
    seen = {} if seen is None else seen
    if isinstance(value, str) and value.startswith("data:") and len(value) > 80:
        if value not in seen:
            try:
                mime, raw = img.parse_data_url(value)
                seen[value] = f"<data-url {mime} {len(raw)} bytes sha256={hashlib.sha256(raw).hexdigest()}>"
            except img.ImageInputError:
                seen[value] = f"<invalid data-url {len(value)} chars>"
        return seen[value]
    if isinstance(value, dict):
        return {k: redact_data_urls(v, seen) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data_urls(v, seen) for v in value]
    return value


def parse_json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"We could not parse the JSON body of your request. ({exc})") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def require(body: dict[str, Any], name: str) -> Any:
    if body.get(name) in (None, "", []):
        raise ApiError(400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    return body[name]


def decode_param_image(url: Any, param: str, seen: dict[str, str] | None = None) -> img.DecodedImage:
    try:
        decoded = img.decode_data_url(url)
    except img.ImageInputError as exc:
        raise ApiError(400, f"Invalid image in '{param}': {exc}", param=param, code="invalid_image") from exc
    if seen is not None:  # so the log's summary of this data URL needs no second decode
        info = decoded.summary()
        seen[url] = f"<data-url {decoded.mime} {info['size_bytes']} bytes sha256={info['sha256']}>"
    return decoded


def estimate_tokens(text: str, n_images: int) -> int:
    return max(1, len(text) // 4) + 85 * n_images


@dataclass
class Parsed:
    """What an endpoint understood of a request: the inputs for the answer, and the log summary."""

    log: dict[str, Any]
    model: str = ""
    prompt: str = ""
    images: list[img.DecodedImage] = field(default_factory=list)
    mask: img.DecodedImage | None = None
    options: dict[str, Any] = field(default_factory=dict)


# -- /v1/responses ------------------------------------------------------------------------------


def _parse_json_logged(raw: bytes, parse: Callable[[dict[str, Any], dict[str, Any], dict[str, str]], Parsed]) -> Parsed:
    """Run a JSON endpoint's parser; its log entry keeps what was understood, with data URLs redacted."""
    body = parse_json_body(raw)
    seen: dict[str, str] = {}
    log: dict[str, Any] = {"body": body}  # redacted below, once its images are decoded
    try:
        return parse(body, log, seen)
    except ApiError as exc:
        exc.log = log  # what was understood before the error still goes into the request log
        raise
    finally:
        log["body"] = redact_data_urls(body, seen)


def parse_responses(raw: bytes, content_type: str) -> Parsed:
    return _parse_json_logged(raw, _parse_responses)


def _parse_responses(body: dict[str, Any], log: dict[str, Any], seen: dict[str, str]) -> Parsed:
    model = log["model"] = require(body, "model")
    if body.get("stream"):
        raise ApiError(400, "stream=true is not supported by the local test server.", param="stream")
    texts: list[str] = []
    images: list[img.DecodedImage] = []
    items = body.get("input")
    if items in (None, "", []):
        raise ApiError(400, "Missing required parameter: 'input'.", param="input", code="missing_required_parameter")
    if isinstance(items, str):
        texts.append(items)
        items = []
    if not isinstance(items, list):
        raise ApiError(400, "'input' must be a string or a list of input items.", param="input")
    for i, item in enumerate(items):
        if not isinstance(item, dict) or item.get("type", "message") != "message":
            continue
        content = item.get("content")
        if isinstance(content, str):
            texts.append(content)
            continue
        for j, part in enumerate(content or []):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "input_text":
                texts.append(str(part.get("text", "")))
            elif kind == "input_image":
                param = f"input[{i}].content[{j}].image_url"
                if part.get("image_url") is None:
                    raise ApiError(
                        400, "input_image needs 'image_url' (file_id is not supported by the local test server).", param=param
                    )
                images.append(decode_param_image(part["image_url"], param, seen))
            else:
                raise ApiError(400, f"Invalid content part type {kind!r}.", param=f"input[{i}].content[{j}].type")
    tools = body.get("tools") or []
    tool = next((t for t in tools if isinstance(t, dict) and t.get("type") == "image_generation"), None)
    mask = None
    options: dict[str, Any] = {}
    if tool is not None:
        options = dict(tool)
        mask_spec = tool.get("input_image_mask")
        if mask_spec:
            if not isinstance(mask_spec, dict) or not mask_spec.get("image_url"):
                raise ApiError(
                    400, "input_image_mask needs 'image_url' (file_id is not supported here).", param="tools[].input_image_mask"
                )
            mask = decode_param_image(mask_spec["image_url"], "tools[].input_image_mask.image_url", seen)
        try:
            options["_size"] = img.parse_size(tool.get("size"), images[0].image.size if images else (1024, 1024))
        except ValueError as exc:
            raise ApiError(400, str(exc), param="tools[].size") from exc
    prompt = "\n".join(texts)
    log.update(
        model=model,
        prompt=prompt,
        images=[d.summary() for d in images],
        mask=mask.summary() if mask else None,
        options=redact_data_urls({k: v for k, v in options.items() if not k.startswith("_")}, seen) if tool is not None else None,
    )
    return Parsed(log=log, model=model, prompt=prompt, images=images, mask=mask, options=options if tool is not None else {})


def answer_responses(parsed: Parsed, reply: dict[str, Any], seq: int, body_json: dict[str, Any]) -> dict[str, Any]:
    key = hashlib.sha256(repr((parsed.prompt, [d.summary()["sha256"] for d in parsed.images])).encode()).hexdigest()[:24]
    output: list[dict[str, Any]] = []
    has_tool = bool(parsed.options)
    image_b64 = None
    if has_tool and not reply.get("no_image") and "refusal" not in reply:
        status = reply.get("image_status", "completed")
        size = parsed.options["_size"]
        fmt = parsed.options.get("output_format") or "png"
        if status == "completed":
            if "image_b64" in reply:
                image_b64 = reply["image_b64"]
            else:
                edited = img.edit_image(
                    [d.image for d in parsed.images], parsed.prompt, mask=parsed.mask.image if parsed.mask else None, size=size
                )
                image_b64 = img.b64(img.encode_image(edited, fmt))
        call: dict[str, Any] = {
            "id": f"ig_{seq:06d}{key}",
            "type": "image_generation_call",
            "status": status,
            "result": image_b64,
            "action": "edit" if parsed.images else "generate",
            "background": "opaque",
            "output_format": fmt,
            "quality": parsed.options.get("quality") or "auto",
            "size": f"{size[0]}x{size[1]}",
            "revised_prompt": parsed.prompt,
        }
        if status == "failed":
            call["error"] = {
                "code": "image_generation_failed",
                "message": "Image generation failed.",
                "type": "server_error",
                "param": None,
            }
        output.append(call)
    if "refusal" in reply:
        content = [{"type": "refusal", "refusal": str(reply["refusal"])}]
    else:
        if "text" in reply:
            text = str(reply["text"])
        elif image_b64 is not None:
            text = "Here is the edited image."
        elif has_tool:
            text = "I couldn't create that image."
        else:
            text = f"I received {len(parsed.images)} image(s) and a {len(parsed.prompt)}-character prompt."
        content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    output.append(
        {"id": f"msg_{seq:06d}{key}", "type": "message", "role": "assistant", "status": "completed", "content": content}
    )
    input_tokens = estimate_tokens(parsed.prompt, len(parsed.images) + (1 if parsed.mask else 0))
    output_tokens = 1056 if image_b64 else 12
    now = time.time()
    tools = body_json.get("tools") or []
    return {
        "id": f"resp_{seq:06d}{key}",
        "object": "response",
        "created_at": int(now),
        "completed_at": int(now),
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": body_json.get("instructions"),
        "max_output_tokens": body_json.get("max_output_tokens"),
        "model": parsed.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": body_json.get("temperature", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": body_json.get("tool_choice", "auto"),
        "tools": tools,
        "top_p": body_json.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": None,
        "metadata": body_json.get("metadata") or {},
    }


# -- /v1/images/edits ---------------------------------------------------------------------------


@dataclass
class FilePart:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


def parse_images(fields: dict[str, list[str]], files: list[FilePart]) -> Parsed:
    log: dict[str, Any] = {}
    try:
        return _parse_images(fields, files, log)
    except ApiError as exc:
        exc.log = log  # what was understood before the error still goes into the request log
        raise


def _parse_images(fields: dict[str, list[str]], files: list[FilePart], log: dict[str, Any]) -> Parsed:
    file_log = []
    for part in files:
        entry: dict[str, Any] = {"field": part.field, "filename": part.filename, "content_type": part.content_type}
        entry.update(img.summarize(part.data))
        try:
            decoded = img.decode_image(part.data, part.content_type or "")
            entry["width"], entry["height"] = decoded.image.size
        except img.ImageInputError:
            decoded = None
        entry["_decoded"] = decoded
        file_log.append(entry)
    flat_fields = {k: (v[0] if len(v) == 1 else v) for k, v in fields.items()}
    log.update(form=flat_fields, files=[{k: v for k, v in e.items() if k != "_decoded"} for e in file_log])
    model = flat_fields.get("model") or "dall-e-2"
    prompt = flat_fields.get("prompt")
    log.update(model=model, prompt=prompt, options={k: v for k, v in flat_fields.items() if k not in ("prompt",)})
    if not prompt:
        raise ApiError(400, "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
    image_parts = [e for e in file_log if e["field"] in ("image", "image[]")]
    mask_parts = [e for e in file_log if e["field"] == "mask"]
    log["images"] = [{k: v for k, v in e.items() if k not in ("_decoded", "field")} for e in image_parts]
    log["mask"] = {k: v for k, v in mask_parts[0].items() if k not in ("_decoded", "field")} if mask_parts else None
    if not image_parts:
        raise ApiError(400, "Missing required parameter: 'image'.", param="image", code="missing_required_parameter")
    for i, e in enumerate(image_parts):
        if e["_decoded"] is None:
            raise ApiError(
                400,
                f"Invalid image file {e['filename']!r}: could not decode it as an image.",
                param=f"image[{i}]",
                code="invalid_image",
            )
    images = [e["_decoded"] for e in image_parts]
    mask = None
    if mask_parts:
        mask = mask_parts[0]["_decoded"]
        if mask is None:
            raise ApiError(400, "Invalid mask file: could not decode it as an image.", param="mask", code="invalid_image")
        if mask.image.size != images[0].image.size:
            raise ApiError(
                400,
                f"Invalid mask image: its size {mask.image.size} must match the first image's {images[0].image.size}.",
                param="mask",
                code="invalid_image_mask",
            )
    try:
        n = int(flat_fields.get("n") or 1)
    except ValueError as exc:
        raise ApiError(400, f"Invalid value for 'n': {flat_fields.get('n')!r}.", param="n") from exc
    if not 1 <= n <= 10:
        raise ApiError(400, f"Invalid value for 'n': {n}; it must be between 1 and 10.", param="n")
    try:
        size = img.parse_size(flat_fields.get("size"), images[0].image.size)
    except ValueError as exc:
        raise ApiError(400, str(exc), param="size") from exc
    options = dict(flat_fields, n=n, _size=size)
    return Parsed(log=log, model=model, prompt=prompt, images=images, mask=mask, options=options)


def answer_images(parsed: Parsed, reply: dict[str, Any], seq: int) -> dict[str, Any]:
    size = parsed.options["_size"]
    fmt = parsed.options.get("output_format") or "png"
    data = []
    if not reply.get("no_image"):
        for variant in range(parsed.options["n"]):
            if "image_b64" in reply:
                data.append({"b64_json": reply["image_b64"]})
                continue
            edited = img.edit_image(
                [d.image for d in parsed.images],
                parsed.prompt,
                mask=parsed.mask.image if parsed.mask else None,
                size=size,
                variant=variant,
            )
            data.append({"b64_json": img.b64(img.encode_image(edited, fmt))})
    text_tokens = estimate_tokens(parsed.prompt, 0)
    image_tokens = 85 * (len(parsed.images) + (1 if parsed.mask else 0))
    output_tokens = 1056 * len(data)
    return {
        "created": int(time.time()),
        "data": data,
        "background": "opaque",
        "output_format": fmt,
        "quality": parsed.options.get("quality") if parsed.options.get("quality") in ("low", "medium", "high") else "medium",
        "size": f"{size[0]}x{size[1]}",
        "usage": {
            "input_tokens": text_tokens + image_tokens,
            "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": text_tokens},
            "output_tokens": output_tokens,
            "output_tokens_details": {"image_tokens": output_tokens, "text_tokens": 0},
            "total_tokens": text_tokens + image_tokens + output_tokens,
        },
    }


# -- /v1/chat/completions -----------------------------------------------------------------------


def parse_chat(raw: bytes, content_type: str) -> Parsed:
    return _parse_json_logged(raw, _parse_chat)


def _parse_chat(body: dict[str, Any], log: dict[str, Any], seen: dict[str, str]) -> Parsed:
    model = log["model"] = require(body, "model")
    messages = require(body, "messages")
    if body.get("stream"):
        raise ApiError(400, "stream=true is not supported by the local test server.", param="stream")
    if not isinstance(messages, list):
        raise ApiError(400, "'messages' must be a list.", param="messages")
    texts: list[str] = []
    images: list[img.DecodedImage] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise ApiError(400, f"Missing required parameter: 'messages[{i}].role'.", param=f"messages[{i}].role")
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
            continue
        for j, part in enumerate(content or []):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                texts.append(str(part.get("text", "")))
            elif kind == "image_url":
                spec = part.get("image_url")
                url = spec.get("url") if isinstance(spec, dict) else spec
                images.append(decode_param_image(url, f"messages[{i}].content[{j}].image_url.url", seen))
            else:
                raise ApiError(400, f"Invalid content part type {kind!r}.", param=f"messages[{i}].content[{j}].type")
    prompt = "\n".join(texts)
    response_format = body.get("response_format") or {"type": "text"}
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise ApiError(400, f"Invalid value for 'response_format.type': {kind!r}.", param="response_format.type")
    if kind == "json_object" and "json" not in prompt.lower():
        raise ApiError(
            400,
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            param="messages",
        )
    if kind == "json_schema":
        schema = response_format.get("json_schema")
        if not isinstance(schema, dict) or not schema.get("name"):
            raise ApiError(
                400, "Missing required parameter: 'response_format.json_schema.name'.", param="response_format.json_schema.name"
            )
    log.update(
        model=model,
        prompt=prompt,
        images=[d.summary() for d in images],
        mask=None,
        options={"response_format": response_format, "temperature": body.get("temperature")},
    )
    return Parsed(log=log, model=model, prompt=prompt, images=images, options={"response_format": response_format})


def _list_property(response_format: dict[str, Any]) -> str:
    """The top-level key for the list of differences: 'differences', or a json_schema's only array property."""
    if response_format.get("type") != "json_schema":
        return "differences"
    props = ((response_format.get("json_schema") or {}).get("schema") or {}).get("properties") or {}
    if "differences" in props:
        return "differences"
    arrays = [name for name, spec in props.items() if isinstance(spec, dict) and spec.get("type") == "array"]
    return arrays[0] if len(arrays) == 1 else "differences"


def answer_chat(parsed: Parsed, reply: dict[str, Any], seq: int) -> dict[str, Any]:
    refusal = None
    content: str | None
    if "refusal" in reply:
        refusal, content = str(reply["refusal"]), None
    elif "content" in reply:
        value = reply["content"]
        content = value if isinstance(value, str) or value is None else json.dumps(value)
    else:
        if not parsed.images:
            differences: list[dict[str, Any]] = []
        else:
            first = parsed.images[0].image
            second = parsed.images[1].image if len(parsed.images) > 1 else None
            differences = img.find_differences(first, second, k=int(reply.get("k", 3)))
            try:
                differences = img.convert_differences(differences, reply.get("box_convention", "box_2d"), *first.size)
            except ValueError as exc:
                raise ApiError(400, f"bad scripted reply: {exc}") from exc
        payload: Any = differences if reply.get("bare_list") else {_list_property(parsed.options["response_format"]): differences}
        try:
            content = img.render_content(payload, reply.get("wrap"))
        except ValueError as exc:
            raise ApiError(400, f"bad scripted reply: {exc}") from exc
    prompt_tokens = estimate_tokens(parsed.prompt, len(parsed.images))
    completion_tokens = max(1, len(content or refusal or "") // 4)
    digest = hashlib.sha256(repr((parsed.prompt, [d.summary()["sha256"] for d in parsed.images])).encode()).hexdigest()[:20]
    return {
        "id": f"chatcmpl-{seq:06d}{digest}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": parsed.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                "logprobs": None,
                "finish_reason": reply.get("finish_reason", "stop"),
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_local_test",
    }


# -- application --------------------------------------------------------------------------------


def create_app(api_key: str | None = None, latency_s: float = 0.0) -> Starlette:
    state = ServerState(api_key=api_key, latency_s=latency_s)

    async def handle(
        request: Request,
        endpoint: str,
        parse: Callable[[], Awaitable[Parsed]],
        answer: Callable[[Parsed, dict[str, Any], int], dict[str, Any]],
    ) -> Response:
        seq = next(state.seq)
        entry: dict[str, Any] = {
            "seq": seq,
            "endpoint": endpoint,
            "method": request.method,
            "path": request.url.path,
            "received_at": time.time(),
            "headers": logged_headers(request),
            "auth_present": bool(request.headers.get("authorization")),
            "status": None,
        }
        state.log.append(entry)
        rid = f"req_{seq:06d}{hashlib.sha256(str(entry['received_at']).encode()).hexdigest()[:20]}"
        headers = {"x-request-id": rid, "openai-processing-ms": "0"}

        def finish(response: Response) -> Response:
            key = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip()
            if reply.get("echo_key") and key and isinstance(response, JSONResponse):
                body = echo_key_into(json.loads(response.body), key)
                extra = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
                response = JSONResponse(body, status_code=response.status_code, headers={**extra, "x-echo": key})
            entry["status"] = response.status_code
            entry["answered_at"] = time.time()
            return response

        reply: dict[str, Any] = {}
        if state.api_key is not None and request.headers.get("authorization") != f"Bearer {state.api_key}":
            entry["auth_ok"] = False
            return finish(
                error_response(
                    401,
                    error_body(
                        401,
                        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                    ),
                    headers,
                )
            )
        entry["auth_ok"] = True

        reply = state.take(endpoint) or {}
        entry["scripted"] = redact_data_urls({k: v for k, v in reply.items() if k != "image_b64"}) or None
        headers.update({str(k): str(v) for k, v in (reply.get("headers") or {}).items()})

        parsed: Parsed | None = None
        parse_error: ApiError | None = None
        try:
            parsed = await parse()
            entry.update(parsed.log)
        except ApiError as exc:
            parse_error = exc
            entry.update(exc.log)
        except (MultiPartException, HTTPException, ValueError) as exc:  # a malformed multipart body, for instance
            parse_error = ApiError(400, f"Could not parse the request: {exc}")

        delay = float(reply.get("delay_s", state.latency_s) or 0.0)
        if delay > 0:
            await asyncio.sleep(delay)

        status = int(reply.get("status", 200))
        if "body" in reply:
            media = headers.pop("content-type", headers.pop("Content-Type", "application/json"))
            return finish(Response(str(reply["body"]), status_code=status, headers=headers, media_type=media))
        if "json" in reply:
            return finish(JSONResponse(reply["json"], status_code=status, headers=headers))
        if status >= 400:
            overrides = reply.get("error") or {}
            if isinstance(overrides, str):
                overrides = {"message": overrides}
            return finish(error_response(status, error_body(status, **overrides), headers))
        if parse_error is not None:
            entry["error"] = parse_error.message
            body = error_body(
                parse_error.status, parse_error.message, type=parse_error.type, param=parse_error.param, code=parse_error.code
            )
            return finish(error_response(parse_error.status, body, headers))
        assert parsed is not None
        try:
            answer_body = await to_thread.run_sync(answer, parsed, reply, seq)
        except ApiError as exc:
            entry["error"] = exc.message
            return finish(
                error_response(
                    exc.status, error_body(exc.status, exc.message, type=exc.type, param=exc.param, code=exc.code), headers
                )
            )
        return finish(JSONResponse(answer_body, status_code=status, headers=headers))

    async def responses(request: Request) -> Response:
        raw = await request.body()
        body_holder: dict[str, Any] = {}

        async def parse() -> Parsed:
            parsed = await to_thread.run_sync(parse_responses, raw, request.headers.get("content-type", ""))
            body_holder.update(json.loads(raw))
            return parsed

        return await handle(request, "responses", parse, lambda p, r, s: answer_responses(p, r, s, body_holder))

    async def chat(request: Request) -> Response:
        raw = await request.body()

        async def parse() -> Parsed:
            return await to_thread.run_sync(parse_chat, raw, request.headers.get("content-type", ""))

        return await handle(request, "chat", parse, answer_chat)

    async def image_edits(request: Request) -> Response:
        async def parse() -> Parsed:
            if not request.headers.get("content-type", "").startswith("multipart/form-data"):
                raise ApiError(400, "images/edits expects a multipart/form-data body.")
            form = await request.form(max_part_size=16 * 1024 * 1024)
            fields: dict[str, list[str]] = {}
            files: list[FilePart] = []
            for name, value in form.multi_items():
                if isinstance(value, str):
                    fields.setdefault(name, []).append(value)
                else:
                    files.append(FilePart(name, value.filename, value.content_type, await value.read()))
            await form.close()
            return await to_thread.run_sync(parse_images, fields, files)

        return await handle(request, "images", parse, answer_images)

    async def not_found(request: Request) -> Response:
        body = error_body(404, f"Invalid URL ({request.method} {request.url.path})")
        return error_response(404, body)

    # -- control --------------------------------------------------------------------------------
    async def control_script(request: Request) -> Response:
        if request.method == "GET":
            pending = {
                t: [{k: v for k, v in r.items() if k != "_left"} | {"times": r["_left"]} for r in q]
                for t, q in state.scripts.items()
            }
            return JSONResponse({"pending": pending})
        try:
            body = parse_json_body(await request.body())
            target = body.get("endpoint", "*")
            if target not in SCRIPT_TARGETS:
                raise ApiError(400, f"endpoint must be one of {list(SCRIPT_TARGETS)}, got {target!r}", param="endpoint")
            replies = body.get("replies")
            if not isinstance(replies, list):
                raise ApiError(400, "'replies' must be a list of reply objects", param="replies")
            validated = [validate_reply(r) for r in replies]
        except ApiError as exc:
            return error_response(exc.status, error_body(exc.status, exc.message, param=exc.param))
        state.scripts[target].extend(validated)
        return JSONResponse({"queued": {t: len(q) for t, q in state.scripts.items()}})

    async def control_requests(request: Request) -> Response:
        endpoint = request.query_params.get("endpoint")
        entries = [e for e in state.log if endpoint in (None, e["endpoint"])]
        return JSONResponse({"requests": copy.deepcopy(entries)})

    async def control_reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"ok": True})

    async def control_config(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = parse_json_body(await request.body())
                if "latency_s" in body:
                    latency = float(body["latency_s"])
                    if latency < 0:
                        raise ApiError(400, "latency_s must be >= 0", param="latency_s")
                    state.latency_s = latency
                unknown = sorted(set(body) - {"latency_s"})
                if unknown:
                    raise ApiError(400, f"unknown config field(s) {unknown}; known: ['latency_s']")
            except (ApiError, TypeError, ValueError) as exc:
                message = exc.message if isinstance(exc, ApiError) else f"bad config: {exc}"
                return error_response(400, error_body(400, message))
        return JSONResponse({"latency_s": state.latency_s, "api_key_required": state.api_key is not None})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/v1/responses", responses, methods=["POST"]),
        Route("/v1/images/edits", image_edits, methods=["POST"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/_control/script", control_script, methods=["GET", "POST"]),
        Route("/_control/requests", control_requests, methods=["GET"]),
        Route("/_control/reset", control_reset, methods=["POST"]),
        Route("/_control/config", control_config, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/{path:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    app = Starlette(routes=routes)
    app.state.server_state = state
    return app

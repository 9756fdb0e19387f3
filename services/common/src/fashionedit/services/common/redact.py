"""Keep secrets out of every message, log line and response field.

Providers and proxies sometimes echo the caller's API key (whole or masked, e.g.
``sk-abc1********wxyz``) in error texts, refusals or even answer fields. The
services register the keys they hold (:func:`register_secret`) and pass every text
that came from outside through :func:`scrub`; :func:`install_log_scrubbing` does the
same for every log record of the process, and also escapes line breaks so a value
that reaches a log line cannot forge another one.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from pydantic import BaseModel

REDACTED = "<redacted>"
MIN_SECRET_LENGTH = 8  # shorter values ("EMPTY", "none") are placeholders, not secrets worth hiding

# Shapes of credentials worth hiding even when they are not ours.
_KEY_SHAPES = [
    re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-*.]{8,}"),  # OpenAI-style keys, masked or not
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-*]{8,}"),
    re.compile(r"(?i)\b(api[_-]?key|access[_-]?token|secret|password)(\"?'?\s*[:=]\s*\"?'?)[^\s\"',;}]{6,}"),
]

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_patterns: list[re.Pattern[str]] = []


def register_secret(value: str | None) -> None:
    """Remember a credential this process holds; it is scrubbed whole and in its masked forms."""
    if not value:
        return
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Masked echoes keep a few leading and trailing characters around a run of '*' or '.'.
        head, tail = re.escape(value[:3]), re.escape(value[-4:])
        _secret_patterns.append(re.compile(re.escape(value)))
        _secret_patterns.append(re.compile(head + r"[A-Za-z0-9_\-]*[*.\u2026]{3,}[A-Za-z0-9_\-]*" + tail))


def registered_secrets() -> frozenset[str]:
    return frozenset(_secrets)


def scrub(text: Any) -> str:
    """``text`` as a string with registered secrets and anything key-shaped replaced by ``<redacted>``."""
    text = str(text)
    for pattern in _secret_patterns:
        text = pattern.sub(REDACTED, text)
    for pattern in _KEY_SHAPES:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def contains_secret(text: str) -> bool:
    return scrub(text) != text


def scrub_data(value: Any) -> Any:
    """A copy of JSON-like data (dicts, lists, strings) with every string scrubbed."""
    if type(value) is str:
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_data(k): scrub_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub_data(v) for v in value)
    return value


def scrub_model(model: Any) -> Any:
    """A pydantic model with every text field scrubbed (image payloads are left alone: their data is bytes).

    Only fields that change are replaced, so the usual case (nothing to hide) costs one scan per string.
    """
    if not isinstance(model, BaseModel) or _is_image(model):
        return model
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        cleaned = _scrub_value(value)
        if cleaned is not value:
            updates[name] = cleaned
    return model.model_copy(update=updates) if updates else model


def _scrub_value(value: Any) -> Any:
    if type(value) is str:  # str-valued enums are codes, never text from outside
        cleaned = scrub(value)
        return cleaned if cleaned != value else value
    if isinstance(value, BaseModel):
        return scrub_model(value)
    if isinstance(value, list):
        items = [_scrub_value(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        cleaned_dict = {k: _scrub_value(v) for k, v in value.items()}
        return cleaned_dict if any(cleaned_dict[k] is not value[k] for k in value) else value
    return value


def _is_image(model: BaseModel) -> bool:
    from fashionedit.contracts import ImagePayload

    return isinstance(model, ImagePayload)


# -- logs ------------------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\r\n\x0b\x0c\x1b\x85\u2028\u2029]")


def _escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def clean_log_text(text: str) -> str:
    """One log line's worth of text: secrets scrubbed, line breaks and escapes shown, not obeyed."""
    return _escape_controls(scrub(text))


_installed = False


def _rejection_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = []
    try:
        from pydantic import ValidationError

        types.append(ValidationError)
    except ImportError:  # pragma: no cover
        pass
    try:
        from bentoml.exceptions import BadInput, InvalidArgument

        types += [BadInput, InvalidArgument]
    except ImportError:  # pragma: no cover
        pass
    try:
        from starlette.requests import ClientDisconnect

        types.append(ClientDisconnect)
    except ImportError:  # pragma: no cover
        pass
    return tuple(types)


def _is_rejection(exc: BaseException) -> bool:
    return isinstance(exc, _rejection_types()) or isinstance(exc, __import__("json").JSONDecodeError)


def install_log_scrubbing() -> None:
    """Scrub every log record this process creates (message, arguments and traceback text). Idempotent."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = clean_log_text(message), None
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and _is_rejection(exc):
            # A request the caller must fix (it gets a 4xx) or a caller that left: one line, not an ERROR traceback.
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = f"{record.msg}: request rejected ({type(exc).__name__})"
            record.exc_info, record.exc_text = None, None
        elif exc is not None and record.exc_info:
            # Format now, scrubbed and indented so no line of it can pass for a record of its own;
            # formatters reuse exc_text instead of formatting again.
            lines = scrub(logging.Formatter().formatException(record.exc_info)).splitlines()
            record.exc_text = "\n".join(lines[:1] + [line if line.startswith(" ") else "  " + line for line in lines[1:]])
        return record

    logging.setLogRecordFactory(factory)

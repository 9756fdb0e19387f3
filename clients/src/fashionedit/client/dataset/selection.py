"""Selecting the kept drafts (top-N or a published list) and the seeded train/val split."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

from fashionedit.contracts.dataset import PAPER_KEPT, PAPER_VAL


def load_selection_list(path: str | Path) -> dict[str, float]:
    """A list in the published ``captions_top.json`` format: ``{"<stem>.png": "<score in percent>"}``.

    Returns ``{stem: score}``; keys may name ``.png`` or ``.jpg`` files (only the stem is used).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise ValueError(f'{path} must be a non-empty object {{"<stem>.png": "<score percent>"}} (the captions_top.json format)')
    out: dict[str, float] = {}
    for name, value in data.items():
        try:
            out[Path(name).stem] = float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: the score of {name!r} is {value!r}, not a number") from exc
    return out


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def top_n(scores: Mapping[str, float | None], n: int) -> list[str]:
    """The ``n`` ids with the highest score (ties broken by id), sorted by id. Ids without a score are never kept."""
    ranked = sorted(((s, i) for i, s in scores.items() if s is not None), key=lambda pair: (-pair[0], pair[1]))
    return sorted(i for _, i in ranked[:n])


PROPORTIONAL_RULE = (
    f"val = round(n * {PAPER_VAL} / {PAPER_KEPT}) (the paper's proportion), at least 1 when n >= 2; "
    f"exactly {PAPER_VAL} when n >= {PAPER_KEPT}"
)


def default_val_size(n: int) -> int:
    """The paper's 1,000 val when there are at least 11,546 samples; else the same proportion (>= 1 when n >= 2)."""
    if n >= PAPER_KEPT:
        return PAPER_VAL
    if n < 2:
        return 0
    return max(1, round(n * PAPER_VAL / PAPER_KEPT))


def split_ids(ids: Sequence[str], seed: int, val: int) -> dict[str, str]:
    """Deterministic split: sorted ids, shuffled with ``random.Random(seed)``, the first ``val`` are val."""
    if not 0 <= val <= len(ids):
        raise ValueError(f"val size {val} is outside 0..{len(ids)}")
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    val_ids = set(order[:val])
    return {i: ("val" if i in val_ids else "train") for i in sorted(ids)}

"""A design session as one self-contained HTML page.

``images="inline"`` (default) embeds every image as a data URL, so the page is a
single file that can be mailed or archived; ``images="files"`` copies the images
into ``<page stem>_files/`` beside it and links them relatively. Either way no
reference points outside the page and its folder.
"""

from __future__ import annotations

import base64
import html
import shutil
from pathlib import Path
from typing import Literal

from fashionedit.contracts import Box2D, ModelInfo
from fashionedit.contracts.files import atomic_write_bytes

from .session import OFFLINE_LABEL, Guidance, Round, RoundStatus, Session, SessionStore, StoredImage

ImageMode = Literal["inline", "files"]

_MEDIA = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;font-size:13px}
.banner{background:#fff4d6;border:1px solid #e8c55a;padding:10px 14px;border-radius:6px;margin:14px 0;font-size:14px}
.badge{display:inline-block;font-size:11px;padding:1px 7px;border-radius:9px;background:#e8e8ed;color:#333;margin-left:6px}
.badge.offline{background:#ffe08a;color:#5b4500;font-weight:600}
.badge.random{background:#ffc9c9;color:#6b0000;font-weight:600}
.badge.fail{background:#ffc9c9;color:#6b0000}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
figure.chosen{border:2px solid #2f7d32}
figcaption{font-size:12px;color:#444;margin-top:6px;max-width:256px}
.frame{position:relative;display:inline-block;line-height:0}
.frame img{max-width:256px;max-height:256px;width:auto;height:auto;display:block}
.frame.small img{max-width:128px;max-height:128px}
.box{position:absolute;border:2px dashed #d32f2f;box-sizing:border-box}
table{border-collapse:collapse;font-size:13px;margin-top:6px} td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.instruction{font-size:15px;margin:6px 0} .prompt{font-family:ui-monospace,monospace;font-size:12px;color:#555}
.round{background:#fff;border:1px solid #e0e0e0;border-radius:8px;padding:12px 16px;margin:12px 0}
.error{color:#b00020;font-size:13px}
.badge.noop{background:#ffe08a;color:#5b4500;font-weight:600}
ul.warnings{background:#fff8e6;border-left:3px solid #e8a33a;margin:8px 0;padding:6px 10px 6px 26px;font-size:13px;color:#5b3a00}
.noop{background:#fff4d6;border:1px solid #e8c55a;padding:6px 10px;border-radius:4px;font-size:13px;margin:6px 0}
ol.suggestions{font-size:13px;padding-left:20px} ol.suggestions li{margin:6px 0}
ol.suggestions figure{display:inline-block;padding:4px;margin-top:4px}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


class _Images:
    def __init__(self, store: SessionStore, session: Session, out: Path, mode: ImageMode) -> None:
        self.store, self.session, self.out, self.mode = store, session, out, mode
        self.files_dir = out.with_name(out.stem + "_files")
        if mode == "files":
            if self.files_dir.exists():
                shutil.rmtree(self.files_dir)
            self.files_dir.mkdir(parents=True)

    def src(self, image: StoredImage) -> str:
        path = self.store.image_path(self.session, image)
        if self.mode == "inline":
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            return f"data:{_MEDIA.get(image.format, 'application/octet-stream')};base64,{data}"
        target = self.files_dir / image.path.replace("/", "_")
        shutil.copyfile(path, target)
        return f"{self.files_dir.name}/{target.name}"


def _box_div(box: Box2D | None, css_class: str = "box", title: str = "target box") -> str:
    if box is None:
        return ""
    ymin, xmin, ymax, xmax = box.root
    style = f"top:{ymin / 10:.2f}%;left:{xmin / 10:.2f}%;height:{(ymax - ymin) / 10:.2f}%;width:{(xmax - xmin) / 10:.2f}%"
    return f'<div class="{css_class}" style="{style}" title="{_e(title)} {list(box.root)}"></div>'


def _figure(
    images: _Images, image: StoredImage, caption: str, *, box: Box2D | None = None, small: bool = False, chosen: bool = False
) -> str:
    classes = "chosen" if chosen else ""
    frame = "frame small" if small else "frame"
    return (
        f'<figure class="{classes}"><div class="{frame}"><img src="{images.src(image)}" alt="{_e(caption)}" '
        f'width="{image.width}" height="{image.height}">{_box_div(box)}</div><figcaption>{caption}</figcaption></figure>'
    )


def model_badges(model: ModelInfo | None) -> str:
    if model is None:
        return ""
    out = f'<span class="badge">{_e(model.backend)} · {_e(model.model_id)}</span>'
    if model.offline:
        out += f'<span class="badge offline">{OFFLINE_LABEL}</span>'
    if model.random_weights:
        out += '<span class="badge random">random weights: not a model score</span>'
    return out


def _scores_table(guidance: Guidance | None) -> str:
    if guidance is None or guidance.scores is None:
        return ""
    scores = guidance.scores
    pair = scores.pair
    rows = []
    unavailable = {status.metric.value: status.reason or "unavailable" for status in scores.metrics if not status.available}
    for metric, value, fmt in (
        ("psnr", pair.psnr, "{:.2f} dB"),
        ("clip", pair.clip, "{:.2f}"),
        ("ssim", pair.ssim, "{:.4f}"),
        ("lpips", pair.lpips, "{:.4f}"),
    ):
        if value is not None:
            extra = ""
            if metric == "clip" and pair.above_threshold is not None:
                extra = " (counts toward CLIP*)" if pair.above_threshold else " (below the CLIP* threshold)"
            rows.append(f"<tr><th>{metric.upper()}</th><td>{_e(fmt.format(value))}{_e(extra)}</td></tr>")
        elif metric in unavailable:
            rows.append(f"<tr><th>{metric.upper()}</th><td>not computed: {_e(unavailable[metric])}</td></tr>")
    return f'<table><tr><th colspan="2">scores against the target {model_badges(scores.model)}</th></tr>{"".join(rows)}</table>'


def _guidance_html(images: _Images, guidance: Guidance | None, step: int) -> str:
    if guidance is None:
        return ""
    parts = [_scores_table(guidance)]
    if guidance.analysis is not None:
        items = []
        for suggestion in guidance.analysis.suggestions:
            crop = _figure(images, suggestion.crop, "target crop", small=True) if suggestion.crop else ""
            items.append(
                f'<li><div>{_e(suggestion.description)} <span class="meta">box_2d '
                f"{list(round(v) for v in suggestion.box_2d.root)}"
                f" · use with <code>--suggestion {suggestion.number}</code></span></div>{crop}</li>"
            )
        header = "next edits proposed from the target" if step >= 0 else "differences"
        parts.append(
            f"<div><strong>{header}</strong>{model_badges(guidance.analysis.model)}<ol "
            f'class="suggestions">{"".join(items)}</ol></div>'
        )
    for error in guidance.errors:
        parts.append(f'<div class="error">{_e(error)}</div>')
    return "".join(parts)


def warnings_html(warnings: list[str]) -> str:
    if not warnings:
        return ""
    items = "".join(f"<li>{_e(w)}</li>" for w in warnings)
    return f'<ul class="warnings" title="what the services said they did not do">{items}</ul>'


def _round_html(images: _Images, session: Session, round_: Round) -> str:
    mode = round_.mode.value if round_.mode else round_.planned_mode.value
    kind = "image-into-prompt (BUG)" if mode == "text+image" else "text-as-prompt (Vanilla)"
    if round_.no_op:
        status = '<span class="badge noop">no-op</span>'
    elif round_.status is RoundStatus.DONE:
        status = '<span class="badge">done</span>'
    else:
        status = f'<span class="badge fail">{_e(round_.state)}</span>'
    figures = []
    source = session.step_image(round_.index - 1)
    if source is not None:
        figures.append(
            _figure(images, source, f"input: round {round_.index - 1} design" if round_.index > 1 else "input: picked draft")
        )
    for number, reference in enumerate(round_.references):
        figures.append(
            _figure(
                images,
                reference,
                f"reference {number + 1}" + (f" ({_e(Path(reference.source).name)})" if reference.source else ""),
            )
        )
    if round_.output is not None:
        figures.append(
            _figure(images, round_.output, f"round {round_.index} result", box=round_.applied_box or round_.target_box)
        )
    suggestion = f" (suggestion {round_.from_suggestion} of round {round_.index - 1})" if round_.from_suggestion else ""
    details = []
    if round_.target_box is not None:
        details.append(f"target box {list(round(v) for v in round_.target_box.root)}")
    if round_.change is not None:
        change = round_.change
        text = f"{change.changed_fraction:.2%} of pixels changed"
        if change.inside_box is not None and change.outside_box is not None:
            text += f" ({change.inside_box:.1%} inside the box, {change.outside_box:.2%} outside)"
        details.append(text)
    if round_.attempts > 1:
        details.append(f"{round_.attempts} attempts")
    if round_.timings is not None:
        details.append(f"{round_.timings.total_ms:.0f} ms")
    return (
        f'<section class="round" id="round-{round_.index}"><h2>Round {round_.index} · '
        f"{kind}{status}{model_badges(round_.model)}</h2>"
        f'<div class="instruction">“{_e(round_.instruction)}”{_e(suggestion)}</div>'
        + (f'<div class="prompt">prompt sent: {_e(round_.prompt)}</div>' if round_.prompt else "")
        + (f'<div class="meta">{_e(" · ".join(details))}</div>' if details else "")
        + (f'<div class="error">{_e(round_.error)}</div>' if round_.error else "")
        + (
            f'<div class="noop"><strong>no-op</strong>: {_e(round_.change.no_op_reason)}</div>'
            if round_.no_op and round_.change
            else ""
        )
        + warnings_html(round_.warnings)
        + f'<div class="row">{"".join(figures)}</div>{_guidance_html(images, round_.guidance, round_.index)}</section>'
    )


def render_html(store: SessionStore, session: Session, out: Path, *, images: ImageMode = "inline") -> str:
    imgs = _Images(store, session, out, images)
    title = session.name or f"Design session {session.id}"
    banner = ""
    if session.offline:
        banner = (
            f'<div class="banner"><strong>{OFFLINE_LABEL}</strong>: these results come from the offline backends '
            "(technical flats, classical editing and analysis, no CLIP weights), not from SD3, OpenAI or CLIP. "
            "Scores here are not comparable with the paper's.</div>"
        )
    if session.random_weights:
        banner += '<div class="banner"><strong>random weights</strong>: some results come from random-weight test models.</div>'
    origin = ""
    if session.branched_from:
        origin = f" · branched from {_e(session.branched_from.session_id)} at round {session.branched_from.round}"

    draft = session.draft
    candidates = "".join(
        _figure(
            imgs, c.image, f"candidate {n} · seed {c.seed}" + (" · picked" if n == draft.chosen else ""), chosen=n == draft.chosen
        )
        for n, c in enumerate(draft.candidates)
    )
    target = _figure(imgs, session.target, "target / inspiration") if session.target else ""
    truncation = (
        f'<div class="meta">CLIP saw only the first {draft.prompt_truncation.max_tokens} tokens; cut: '
        f"“{_e(draft.prompt_truncation.truncated_text)}”</div>"
        if draft.prompt_truncation
        else ""
    )
    body = (
        f"<h1>{_e(title)}</h1>"
        f'<div class="meta">session {_e(session.id)} · created {session.created_at:%Y-%m-%d %H:%M} UTC{origin}</div>{banner}'
        f'<h2>Draft {model_badges(draft.model)}</h2><div class="instruction">“{_e(draft.prompt)}”</div>{truncation}'
        + (f'<div class="error">{_e(draft.error)}</div>' if draft.error else "")
        + warnings_html(draft.warnings)
        + f'<div class="row">{candidates}{target}</div>{_guidance_html(imgs, draft.guidance, 0)}'
        + "".join(_round_html(imgs, session, r) for r in session.rounds)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
        f"<style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def export_html(store: SessionStore, session: Session, out: str | Path, *, images: ImageMode = "inline") -> Path:
    out = Path(out).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, render_html(store, session, out, images=images).encode("utf-8"))
    return out

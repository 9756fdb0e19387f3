"""Table 1 from a run's records (markdown, CSV, JSON) and an HTML contact sheet per sample (the paper's Fig. 4).

The table is recomputed from ``records.jsonl`` every time, so a report of an interrupted run shows
what finished (``n`` against ``n_expected``) and a resumed run's report is complete.
"""

from __future__ import annotations

import csv
import html
import io
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from fashionedit.contracts import BenchmarkReport, ModelInfo, RoundRecord, RunMetadata, Table1Row
from fashionedit.contracts.benchmark import CLIP_RANDOM_TEXT, CLIP_UNAVAILABLE_TEXT, OFFLINE_LABEL
from fashionedit.contracts.files import atomic_write_text

from ..common.dataset_folder import Dataset, load_dataset
from .runner import EDIT_FAMILIES, INIT_FAMILIES, METADATA_FILE, BenchmarkRunner, RunConfig, load_records

CLIP_TEXT = {"unavailable": CLIP_UNAVAILABLE_TEXT, "random_weights": CLIP_RANDOM_TEXT, "no_data": "n/a — no scored items"}


def _model_text(info: ModelInfo | None) -> str | None:
    if info is None:
        return None
    text = f"{info.backend} · {info.model_id}"
    if info.random_weights:
        text += " (random weights)"
    return text


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def table_rows(
    records: Iterable[RoundRecord],
    expected: dict[str, int],
    *,
    rounds: int,
    clip_threshold: float,
    split_labels: dict[str, str] | None = None,
) -> list[Table1Row]:
    """Table 1 rows from per-item records (the latest per item, family and round).

    ``expected`` gives the planned item count per family (families absent are not rows). CLIP is the
    mean cosine x100 and PSNR the mean dB, over the items of the row that finished. CLIP* is the percent
    of the row's *expected* items with cosine > ``clip_threshold``, as the paper's is a percent of the val
    images: an item that failed (or has not run) counts as not above, and the row's note says how many.
    A row whose records carry no real CLIP score (CLIP unavailable, or random weights) has no CLIP numbers,
    and says why.
    """
    latest: dict[tuple[str, str, int], RoundRecord] = {}
    for record in records:
        latest[(record.item_id, record.family, record.round)] = record
    split_labels = split_labels or {}
    rows = []
    specs = [(f, 0) for f in INIT_FAMILIES if f in expected] + [
        (f, r) for f in EDIT_FAMILIES if f in expected for r in range(1, rounds + 1)
    ]
    for family, round_ in specs:
        group = [r for (_, fam, rnd), r in sorted(latest.items()) if fam == family and rnd == round_]
        ok = [r for r in group if r.status == "ok" and r.scores is not None]
        failed = sum(1 for r in group if r.status == "failed")
        statuses = {r.clip_status for r in ok}
        clip_status = (
            "no_data"
            if not ok
            else ("ok" if statuses == {"ok"} else "random_weights" if "random_weights" in statuses else "unavailable")
        )
        clip = clip_star = None
        if clip_status == "ok":
            cosines = [r.scores.clip_cosine if r.scores.clip_cosine is not None else r.scores.clip / 100 for r in ok]  # type: ignore[union-attr,operator]
            clip = 100 * _mean(cosines)  # type: ignore[operator]
            denominator = max(expected[family], len(cosines))
            clip_star = 100 * sum(1 for c in cosines if c > clip_threshold) / denominator
        psnr = _mean([r.scores.psnr for r in ok if r.scores.psnr is not None])  # type: ignore[union-attr]
        models = Counter(_model_text(r.model) for r in ok if r.model is not None)
        label = f"{family}({round_})" if family in EDIT_FAMILIES else family
        note = None
        if clip_status in CLIP_TEXT and ok:
            note = CLIP_TEXT[clip_status]
        elif clip_status == "ok" and len(ok) < expected[family]:
            missing = expected[family] - len(ok)
            note = (
                f"CLIP* is over all {expected[family]} expected items: {missing} without a score ({failed} failed"
                f"{f', {missing - failed} not run' if missing > failed else ''}) count as not above {clip_threshold:g}; "
                f"CLIP and PSNR are over the {len(ok)} scored"
            )
        rows.append(
            Table1Row(
                method=label,
                prompt="text+image" if family == "BUG" else "text",
                split=split_labels.get(family, "train+val" if family in INIT_FAMILIES else "val"),
                n=len(ok),
                n_failed=failed,
                n_expected=expected[family],
                clip=clip,
                clip_star=clip_star,
                clip_status=clip_status,
                psnr=psnr,
                model=", ".join(m for m, _ in models.most_common() if m) or None,
                note=note,
            )
        )
    return rows


def _fmt(value: float | None, status: str | None = None) -> str:
    if value is not None:
        return f"{value:.2f}"
    return CLIP_TEXT.get(status or "", "n/a") if status else "n/a"


def report_label(meta: RunMetadata) -> str:
    if meta.offline:
        return f"{OFFLINE_LABEL} — not the paper's models"
    names = {k: _model_text(v) for k, v in meta.services.items()}
    return "; ".join(f"{k}: {v}" for k, v in sorted(names.items()) if v)


def markdown_table(report: BenchmarkReport) -> str:
    out = [f"**Table 1 ({report.label})**", ""]
    out.append("| method | prompt | split | n | failed | CLIP | CLIP* | PSNR | model |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for row in report.rows:
        n = f"{row.n}/{row.n_expected}" if row.n_expected is not None and row.n_expected != row.n else str(row.n)
        clip_status = None if row.clip_status == "ok" else row.clip_status
        out.append(
            f"| {row.method} | {row.prompt} | {row.split} | {n} | {row.n_failed} | {_fmt(row.clip, clip_status)} | "
            f"{_fmt(row.clip_star, clip_status)} | {_fmt(row.psnr)} | {row.model or '-'} |"
        )
    out.append("")
    out.append(
        f"CLIP: mean cosine x100 vs the original, over the scored items; CLIP*: % of the expected items (n_expected, as the "
        f"paper's % of val images) with cosine > {report.metadata.clip_threshold:g}, a failed item counting as not above; "
        "PSNR: mean dB (cv2.PSNR, 256x256 bilinear, cv2.imread decoding), over the scored items."
    )
    for row in report.rows:
        if row.note and row.note not in CLIP_TEXT.values():
            out.append(f"{row.method}: {row.note}.")
    if report.clip_note:
        out.append(f"CLIP columns: {report.clip_note}.")
    out.extend(report.notes)
    if report.metadata.offline:
        out.append(
            f"Results on the {OFFLINE_LABEL}: the services ran without the paper's models (run.json names each one's "
            "backend and model); they test the machinery, not the paper's models."
        )
    return "\n".join(out) + "\n"


def csv_table(report: BenchmarkReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["method", "prompt", "split", "n", "n_failed", "n_expected", "clip", "clip_star", "psnr", "model", "label"])
    for row in report.rows:
        clip_status = None if row.clip_status == "ok" else row.clip_status
        writer.writerow(
            [
                row.method,
                row.prompt,
                row.split,
                row.n,
                row.n_failed,
                row.n_expected,
                _fmt(row.clip, clip_status),
                _fmt(row.clip_star, clip_status),
                _fmt(row.psnr),
                row.model or "",
                report.label,
            ]
        )
    return buffer.getvalue()


def build_report(run_dir: str | Path) -> tuple[BenchmarkReport, RunConfig, Dataset, dict]:
    run_dir = Path(run_dir)
    meta_path = run_dir / METADATA_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path} not found: is {run_dir} a benchmark run folder (`fashionedit bench run --out`)?")
    meta = RunMetadata.model_validate_json(meta_path.read_text())
    config = RunConfig.model_validate(meta.config)
    runner = BenchmarkRunner.__new__(BenchmarkRunner)  # the plan only: no clients
    runner.config, runner.dataset = config, load_dataset(config.dataset)
    plan = runner.planned()
    planned_ids = {family: {s.id for s in samples} for family, samples in plan.items()}
    records = {k: r for k, r in load_records(run_dir).items() if r.item_id in planned_ids.get(r.family, ())}
    rows = table_rows(
        records.values(),
        {f: len(s) for f, s in plan.items()},
        rounds=config.rounds,
        clip_threshold=meta.clip_threshold,
        split_labels={f: "+".join(config.init_splits if f in INIT_FAMILIES else config.edit_splits) for f in plan},
    )
    for family in config.methods:
        if family == "SD2" and family not in plan:
            rows.insert(
                0,
                Table1Row(
                    method="SD2",
                    prompt="text",
                    split="+".join(config.init_splits),
                    n=0,
                    n_expected=0,
                    note="not run: no SD2 generator given (--sd2-generator-url)",
                ),
            )
    statuses = {r.clip_status for r in rows if r.n}
    clip_note = None
    if statuses and statuses != {"ok"}:
        clip_note = CLIP_TEXT["random_weights" if "random_weights" in statuses else "unavailable"]
    counts = Counter(r.status for r in records.values())
    manifest = runner.dataset.manifest
    notes = [
        f"Dataset: {manifest.num_samples} samples ({manifest.split.train} train / {manifest.split.val} val), "
        f"selection {manifest.selection.method}, differences from {manifest.differences_source}."
    ]
    if "from_folder" in manifest.drafts:
        notes.append(
            f"SD3 row: the dataset's drafts came from a folder ({Path(manifest.drafts['from_folder']).name}), not from a "
            "generator."
        )
    carried = sum(1 for r in records.values() if r.carried)
    if carried:
        notes.append(
            f"{carried} rounds had no difference to apply (the item has fewer than {config.rounds}); "
            "their previous output was carried forward unchanged and scored again."
        )
    report = BenchmarkReport(
        metadata=meta, rows=rows, label=report_label(meta), clip_note=clip_note, counts=dict(counts), notes=notes
    )
    return report, config, runner.dataset, records


def write_report(
    run_dir: str | Path, out_stem: str | Path | None = None, *, sheets: bool = True
) -> tuple[BenchmarkReport, dict[str, Path]]:
    """Write ``table1.md``, ``table1.csv`` and ``table1.json`` (or ``<out_stem>.*``) and the contact sheets."""
    run_dir = Path(run_dir)
    report, config, dataset, records = build_report(run_dir)
    stem = Path(out_stem) if out_stem else run_dir / "table1"
    paths = {
        "markdown": atomic_write_text(stem.with_suffix(".md"), markdown_table(report)),
        "csv": atomic_write_text(stem.with_suffix(".csv"), csv_table(report)),
        "json": atomic_write_text(stem.with_suffix(".json"), report.model_dump_json(indent=2) + "\n"),
    }
    if sheets:
        paths["sheets"] = write_contact_sheets(run_dir, report, config, dataset, records)
    return report, paths


# -- contact sheets -------------------------------------------------------------------------------------
_CSS = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}
td{vertical-align:top;padding:6px;border:1px solid #ddd;width:180px;font-size:12px}img.main{width:170px;display:block}
img.ref{height:60px;border:1px solid #999;margin-top:4px}.label{font-weight:600;margin-bottom:4px}.fail{color:#b00}
.banner{background:#fff3cd;padding:6px 10px;margin-bottom:1em;display:inline-block}th{text-align:left;padding:6px}"""


def _scores_html(record: RoundRecord | None) -> str:
    if record is None:
        return "<div>not run</div>"
    if record.status != "ok":
        return f"<div class='fail'>failed: {html.escape(record.error or '')}</div>"
    if record.scores is None:
        return ""
    parts = []
    if record.clip_status == "ok" and record.scores.clip is not None:
        parts.append(f"CLIP {record.scores.clip:.2f}")
    else:
        parts.append("CLIP n/a")
    if record.scores.psnr is not None:
        parts.append(f"PSNR {record.scores.psnr:.2f}")
    return f"<div>{' · '.join(parts)}</div>"


def write_contact_sheets(run_dir: Path, report: BenchmarkReport, config: RunConfig, dataset: Dataset, records: dict) -> Path:
    """One HTML page per edited sample: ground truth, draft, each Vanilla and BUG round with instruction and reference."""
    folder = run_dir / "sheets"
    folder.mkdir(parents=True, exist_ok=True)

    def rel(path: Path) -> str:
        return html.escape(os.path.relpath(path, folder))

    banner = f"<div class='banner'>{html.escape(report.label)}</div>"
    items = sorted({r.item_id for r in records.values() if r.family in EDIT_FAMILIES})
    samples = dataset.by_id()
    index_rows = []
    for item_id in items:
        sample = samples[item_id]
        head = [
            f"<td><div class='label'>Ground truth</div><img class='main' src='{rel(dataset.path(sample.original))}'>"
            f"<div>{html.escape(sample.caption)}</div></td>",
            f"<td><div class='label'>Draft</div><img class='main' src='{rel(dataset.path(sample.draft))}'>"
            f"{_scores_html(records.get((item_id, 'SD3', 0)))}</td>",
        ]
        body = []
        for family in EDIT_FAMILIES:
            if family not in config.methods:
                continue
            cells = [f"<th>{family}</th>"]
            for round_ in range(1, config.rounds + 1):
                record = records.get((item_id, family, round_))
                image = (
                    f"<img class='main' src='{rel(run_dir / record.output)}'>"
                    if record and record.output and record.status == "ok"
                    else ""
                )
                instruction = html.escape(record.instruction or "") if record else ""
                ref = (
                    f"<img class='ref' src='{rel(dataset.path(record.reference))}' title='reference'>"
                    if record and record.reference
                    else ""
                )
                cells.append(
                    f"<td><div class='label'>{family}({round_})</div>{image}<div>“{instruction}”</div>{ref}"
                    f"{_scores_html(record)}</td>"
                )
            body.append("<tr>" + "".join(cells) + "</tr>")
        page = (
            f"<!doctype html><meta charset='utf-8'><title>{html.escape(item_id)}</title><style>{_CSS}</style>{banner}"
            f"<h2>{html.escape(item_id)}</h2><table><tr><th></th>{''.join(head)}</tr>{''.join(body)}</table>"
            "<p><a href='index.html'>all samples</a></p>"
        )
        atomic_write_text(folder / f"{item_id}.html", page)
        index_rows.append(f"<li><a href='{html.escape(item_id)}.html'>{html.escape(item_id)}</a></li>")
    table_html = "<pre>" + html.escape(markdown_table(report)) + "</pre>"
    atomic_write_text(
        folder / "index.html",
        f"<!doctype html><meta charset='utf-8'><title>FashionEdit benchmark</title><style>{_CSS}</style>"
        f"{banner}<h2>Contact sheets</h2>{table_html}<ul>{''.join(index_rows)}</ul>",
    )
    return folder / "index.html"

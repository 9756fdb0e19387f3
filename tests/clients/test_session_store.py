"""Session files without services: atomic writes, lookup, branching, scripts, the HTML export."""

from __future__ import annotations

import json
import os
import re

import pytest
from PIL import Image

from fashionedit.client.export import export_html
from fashionedit.client.script import load_script
from fashionedit.client.session import (
    Analysis,
    Candidate,
    Draft,
    Guidance,
    Round,
    RoundStatus,
    Scores,
    SessionNotFound,
    SessionStore,
    Suggestion,
)
from fashionedit.contracts import Box2D, ImagePayload, Metric, MetricStatus, ModelInfo, PairScore

OFFLINE = ModelInfo(backend="flats", model_id="fashionedit.flats", offline=True)


def payload(color: tuple[int, int, int], size: int = 32) -> ImagePayload:
    return ImagePayload.from_pil(Image.new("RGB", (size, size), color))


def make_session(store: SessionStore, rounds: int = 2):
    session = store.create(Draft(prompt="a white blazer", width=64, height=64, num_candidates=2), name="mine")
    session.draft.candidates = [
        Candidate(image=store.put_image(session, f"draft-c{n}", payload((n * 50, 10, 10))), seed=n) for n in range(2)
    ]
    session.draft.chosen, session.draft.model = 0, OFFLINE
    session.target = store.put_image(session, "target", payload((0, 0, 128)))
    for index in range(1, rounds + 1):
        ref = store.put_image(session, f"r{index}-ref0", payload((index, 200, 0), 8))
        crop = store.put_image(session, f"r{index}-s1", payload((0, 0, 120), 8))
        session.rounds.append(
            Round(
                index=index,
                instruction=f"edit {index} <b>&",
                references=[ref],
                target_box=Box2D((100, 200, 300, 400)),
                status=RoundStatus.DONE,
                output=store.put_image(session, f"r{index}-out", payload((index * 40, 0, 100))),
                model=ModelInfo(backend="local", model_id="classical", offline=True, random_weights=index == 2),
                guidance=Guidance(
                    scores=Scores(
                        pair=PairScore(id=f"round {index}", psnr=12.5 + index),
                        metrics=[
                            MetricStatus(metric=Metric.CLIP, available=False, reason="no CLIP weights"),
                            MetricStatus(metric=Metric.PSNR, available=True),
                        ],
                        model=ModelInfo(backend="none", model_id="none", offline=True),
                    ),
                    analysis=Analysis(
                        suggestions=[
                            Suggestion(number=1, description="the original is navy", box_2d=Box2D((0, 0, 500, 500)), crop=crop)
                        ],
                        model=ModelInfo(backend="classical", model_id="classical", offline=True),
                    ),
                ),
            )
        )
    store.save(session)
    return session


def test_a_save_killed_before_its_rename_keeps_the_last_saved_session(tmp_path, monkeypatch):
    store = SessionStore(tmp_path)
    session = make_session(store)
    session.name = "renamed but never saved"

    def crash(src, dst):
        raise KeyboardInterrupt("killed between write and rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        store.save(session)
    monkeypatch.undo()
    assert store.load(session.id).name == "mine"
    assert not list(store.folder(session.id).glob(".*.tmp"))  # no temporary file left behind


def test_save_load_list_and_resolve(tmp_path):
    store = SessionStore(tmp_path)
    session = make_session(store)
    loaded = store.load(session.id)
    assert loaded.rounds[1].output.sha256 == session.rounds[1].output.sha256 and loaded.offline and loaded.random_weights
    assert store.load("mine").id == session.id and store.load(session.id[:17]).id == session.id
    assert store.load("latest").id == session.id
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "session.json").write_text("{not json")
    summaries = store.list()
    assert [s.id for s in summaries] == [session.id] and summaries[0].completed == 2 and summaries[0].offline
    with pytest.raises(SessionNotFound):
        store.load("nope")
    with pytest.raises(SessionNotFound):
        store.load("../etc")


def test_changed_image_on_disk_is_detected(tmp_path):
    store = SessionStore(tmp_path)
    session = make_session(store)
    path = store.image_path(session, session.rounds[0].output)
    Image.new("RGB", (32, 32), (1, 1, 1)).save(path)
    with pytest.raises(ValueError, match="changed on disk"):
        store.read_payload(session, session.rounds[0].output)


def test_branch_copies_what_it_keeps_and_leaves_the_parent_alone(tmp_path):
    store = SessionStore(tmp_path)
    parent = make_session(store, rounds=2)
    child = store.branch(parent.id, 1, name="alt")
    assert child.id != parent.id and child.name == "alt" and len(child.rounds) == 1
    assert child.branched_from.session_id == parent.id and child.branched_from.round == 1
    for image in (child.rounds[0].output, child.rounds[0].references[0], child.target, child.draft.candidates[1].image):
        assert store.image_path(child, image).read_bytes() == store.image_path(parent, image).read_bytes()
    assert not store.image_path(child, parent.rounds[1].output).exists()
    assert len(store.load(parent.id).rounds) == 2
    root = store.branch(parent.id, 0)
    assert root.rounds == [] and root.chosen_image() is not None
    with pytest.raises(ValueError, match="0..2"):
        store.branch(parent.id, 3)


def test_script_resolves_paths_and_validates(tmp_path):
    (tmp_path / "refs").mkdir()
    script = tmp_path / "plan.yaml"
    script.write_text(
        "prompt: a white blazer\ncandidates: 2\nsize: 256\ntarget: t.png\n"
        "rounds:\n  - instruction: make it navy\n  - instruction: add pockets\n    references: [refs/p.png]\n"
        "    target_box: [100, 200, 300, 400]\n  - suggestion: 2\n"
    )
    plan = load_script(script)
    assert plan.dimensions == (256, 256) and plan.target == tmp_path / "t.png"
    assert plan.rounds[1].references == [tmp_path / "refs" / "p.png"] and plan.rounds[1].target_box.root == (100, 200, 300, 400)
    assert plan.rounds[2].suggestion == 2
    bare = tmp_path / "rounds.json"
    bare.write_text(json.dumps([{"instruction": "x"}]))
    assert len(load_script(bare).rounds) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("rounds:\n  - references: [a.png]\n")
    with pytest.raises(ValueError, match="instruction or a suggestion"):
        load_script(bad)
    bad.write_text("rounds:\n  - instruction: x\n    target_box: [500, 0, 100, 10]\n")
    with pytest.raises(ValueError):
        load_script(bad)


@pytest.mark.parametrize("mode", ["inline", "files"])
def test_export_references_every_image_and_labels_offline(tmp_path, mode):
    store = SessionStore(tmp_path / "sessions")
    session = make_session(store)
    page = export_html(store, session, tmp_path / "out" / "page.html", images=mode)
    text = page.read_text()
    sources = re.findall(r'<img src="([^"]+)"', text)
    # 2 candidates + target + per round (input, reference, output, suggestion crop)
    assert len(sources) == 3 + 2 * 4
    for src in sources:
        if mode == "inline":
            assert src.startswith("data:image/png;base64,")
            ImagePayload(src).to_pil()
        else:
            assert not src.startswith(("/", "file:", "http")) and (page.parent / src).is_file()
    assert text.count("offline profile") >= 1 + 1 + 2 * 3  # banner, draft, each round's edit/scores/analysis
    assert "random weights" in text
    assert "edit 1 &lt;b&gt;&amp;" in text and "<b>&" not in text  # user text is escaped
    assert "not computed: no CLIP weights" in text and "13.50 dB" in text


def test_offline_profile_unless_a_service_is_configured():
    from fashionedit.client.local import service_environment

    environ = {
        "PATH": "/bin",
        "FASHIONEDIT_EDITOR_URL": "http://x:1",
        "OPENAI_API_KEY": "sk-test",
        "FASHIONEDIT_ANALYZER_BACKEND": "openai-chat",
        "FASHIONEDIT_SCORER_CLIP_WEIGHTS": "/w/clip.pt",
    }
    editor, profile = service_environment("editor", environ)
    assert profile == "offline" and editor["FASHIONEDIT_EDITOR_BACKEND"] == "local" and editor["HF_HUB_OFFLINE"] == "1"
    analyzer, profile = service_environment("analyzer", environ)
    assert (
        profile == "configured" and analyzer["FASHIONEDIT_ANALYZER_BACKEND"] == "openai-chat" and "HF_HUB_OFFLINE" not in analyzer
    )
    scorer, profile = service_environment("scorer", environ)
    assert profile == "configured" and scorer["FASHIONEDIT_SCORER_CLIP_WEIGHTS"] == "/w/clip.pt"
    forced, profile = service_environment("scorer", environ, offline=True)
    assert (
        profile == "offline"
        and forced["FASHIONEDIT_SCORER_BACKEND"] == "none"
        and "FASHIONEDIT_SCORER_CLIP_WEIGHTS" not in forced
    )

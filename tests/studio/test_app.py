"""The studio's routes in-process (no services needed): the bearer token, health, uploads and boxes checked before any
step runs, files never served from outside a session, a session another process holds, and the export download."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from starlette.testclient import TestClient

from fashionedit.client.design import DesignSessions
from fashionedit.client.session import Candidate, Draft, SessionStore
from fashionedit.client.settings import ClientSettings
from fashionedit.client.studio import build_app
from fashionedit.contracts import ImagePayload

DOWN = "http://127.0.0.1:9"  # nothing listens there


def settings(tmp_path: Path, **overrides) -> ClientSettings:
    urls = {f"{name}_url": [DOWN] for name in ("generator", "editor", "analyzer", "scorer")}
    return ClientSettings(sessions_dir=tmp_path / "sessions", max_attempts=1, **urls, **overrides)


def png(color: str = "navy", size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def picked_session(tmp_path):
    """A session with one picked draft, made without services (as if the generator had answered)."""
    store = SessionStore(tmp_path / "sessions")
    session = store.create(Draft(prompt="a navy blazer", chosen=0, width=64, height=64))
    session.draft.candidates = [Candidate(image=store.put_image(session, "draft-c0", ImagePayload.from_bytes(png())), seed=1)]
    store.save(session)
    return store, session


def test_the_token_guards_every_route_but_health_and_the_page(tmp_path):
    with TestClient(build_app(settings(tmp_path, api_token="s3cret-token"))) as client:
        assert client.get("/livez").status_code == 200 and client.get("/readyz").status_code == 200
        assert client.get("/").status_code == 200 and client.get("/static/studio.js").status_code == 200
        refused = client.get("/api/sessions")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert "access token" in refused.json()["error"]["message"] and "s3cret" not in refused.text
        assert client.get("/api/sessions", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/api/sessions", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        assert client.post("/api/login", json={"token": "wrong"}).status_code == 401
        signed_in = client.post("/api/login", json={"token": "s3cret-token"})
        assert signed_in.status_code == 200 and "httponly" in signed_in.headers["set-cookie"].lower()
        assert client.get("/api/sessions").status_code == 200  # the cookie the sign-in set


def test_without_a_token_everything_is_open(tmp_path):
    with TestClient(build_app(settings(tmp_path))) as client:
        assert client.get("/api/sessions").json() == {"sessions": []}
        info = client.get("/api/info").json()
        assert info["auth"] is False
        assert all(not s["ready"] and "could not reach" in s["message"] for s in info["services"].values())


def test_uploads_are_checked_as_the_services_would(tmp_path):
    with TestClient(build_app(settings(tmp_path))) as client:
        text = client.post("/api/uploads", files={"file": ("notes.txt", b"hello", "text/plain")})
        assert text.status_code == 422
        assert (
            text.json()["error"]["message"]
            == "notes.txt is not an image the services accept: image format not recognised; send PNG, JPEG or WebP"
        )
        truncated = client.post("/api/uploads", files={"file": ("half.png", png()[:40], "image/png")})
        assert truncated.status_code == 422 and "half.png" in truncated.json()["error"]["message"]
        good = client.post("/api/uploads", files={"file": ("my ref (1).png", png("gold"), "image/png")})
        assert good.status_code == 201
        upload = good.json()["upload"]
        assert upload["name"] == "my-ref-1.png" and (upload["width"], upload["height"]) == (64, 64)
        assert client.get(f"/{upload['url']}").content == png("gold")
        assert client.get("/api/uploads/../../etc").status_code == 404


def test_a_round_with_bad_input_is_refused_before_anything_is_saved(tmp_path, picked_session):
    store, session = picked_session
    with TestClient(build_app(settings(tmp_path))) as client:
        url = f"/api/sessions/{session.id}/rounds"
        cases = [
            ({"instruction": "add pockets", "box": [500, 500, 500, 500]}, "zero or negative area"),
            ({"instruction": "add pockets", "box": [100, 100, 1200, 900]}, "outside 0-1000"),
            ({"instruction": "  "}, "write an instruction"),
            ({"instruction": "add pockets", "references": ["0123456789abcdef"]}, "upload the image again"),
            ({"instruction": "add pockets", "suggestion": 1}, "no suggestion 1"),
        ]
        for body, message in cases:
            answer = client.post(url, json=body)
            assert 400 <= answer.status_code < 500 and message in answer.json()["error"]["message"], (body, answer.text)
        assert store.load(session.id).rounds == []
        assert client.post(url, content=b"not json", headers={"content-type": "application/json"}).status_code == 422


def test_files_come_only_from_inside_the_session(tmp_path, picked_session):
    store, session = picked_session
    (tmp_path / "sessions" / "secret.txt").write_text("outside")
    with TestClient(build_app(settings(tmp_path))) as client:
        image = session.draft.candidates[0].image
        assert (
            client.get(f"/api/sessions/{session.id}/files/{image.path}").content == store.image_path(session, image).read_bytes()
        )
        assert client.get(f"/api/sessions/{session.id}/files/../secret.txt").status_code == 404
        assert client.get(f"/api/sessions/{session.id}/files/%2e%2e/secret.txt").status_code == 404
        assert client.get("/api/sessions/..%2fx").status_code == 404


def test_a_session_another_process_is_changing_is_refused_with_a_clear_message(tmp_path, picked_session):
    store, session = picked_session
    with TestClient(build_app(settings(tmp_path))) as client, store.lock(session.id):
        # the lock is held by this (test) thread; the studio's threads are refused as another process would be
        answer = client.post(f"/api/sessions/{session.id}/rounds", json={"instruction": "add pockets"})
        assert answer.status_code == 409 and "is being changed" in answer.json()["error"]["message"]
    assert store.load(session.id).rounds == []


def test_undo_and_export(tmp_path, picked_session):
    store, session = picked_session
    designs = DesignSessions(store, None)  # type: ignore[arg-type] - queuing a round calls no service
    designs.add_round(session, "add pockets", run=False)
    with TestClient(build_app(settings(tmp_path))) as client:
        exported = client.get(f"/api/sessions/{session.id}/export")
        assert exported.status_code == 200
        assert exported.headers["content-disposition"] == f'attachment; filename="fashionedit-{session.id}.html"'
        assert "add pockets" in exported.text and 'src="data:image/png;base64,' in exported.text
        view = client.post(f"/api/sessions/{session.id}/undo", json={}).json()
        assert view["session"]["rounds"] == [] and store.load(session.id).rounds == []
        again = client.post(f"/api/sessions/{session.id}/undo", json={})
        assert again.status_code == 409 and "nothing to undo" in again.json()["error"]["message"]


def test_a_generator_that_is_down_fails_the_start_with_its_message_and_keeps_the_session(tmp_path):
    import time

    with TestClient(build_app(settings(tmp_path))) as client:
        started = client.post("/api/sessions", json={"prompt": "a navy blazer", "candidates": 2, "size": 256})
        assert started.status_code == 202
        job = started.json()["job"]
        deadline = time.monotonic() + 30
        while job["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
            job = client.get(f"/api/jobs/{job['id']}").json()["job"]
        assert job["state"] == "failed" and job["error"].startswith(f"could not reach the generator at {DOWN}")
        assert "Traceback" not in job["error"]
        view = client.get(f"/api/sessions/{started.json()['session_id']}").json()
        assert view["session"]["draft"]["prompt"] == "a navy blazer" and view["pending"] is True  # to finish once it is up
        assert view["job"] is None


def test_abandoned_uploads_are_removed_when_the_studio_starts(tmp_path):
    import os

    from fashionedit.client.studio.uploads import KEEP_UNUSED_S, Uploads

    uploads = Uploads(tmp_path / "sessions")
    old, new = uploads.add("old.png", png()), uploads.add("new.png", png())
    week_ago = old.path.parent.stat().st_mtime - KEEP_UNUSED_S - 60
    os.utime(old.path.parent, (week_ago, week_ago))
    with TestClient(build_app(settings(tmp_path))) as client:
        assert client.get(f"/api/uploads/{old.id}").status_code == 404
        assert client.get(f"/api/uploads/{new.id}").status_code == 200

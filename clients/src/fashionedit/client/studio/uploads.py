"""Images the page uploads before a step uses them (references, targets), checked as the services would.

Each upload is kept under ``<sessions dir>/.studio-uploads/<id>/<file name>`` until a step copies it into
its session (the session engine does that copy), so the file name the user chose is what the session
and its export record as the reference's source. Uploads older than a week are removed when the studio starts.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from fashionedit.contracts import ImagePayload

UPLOADS_FOLDER = ".studio-uploads"  # a dot folder: never taken for a session (they are */session.json)
KEEP_UNUSED_S = 7 * 24 * 3600  # an upload no step used in a week was abandoned (a step copies what it uses)
_ID = re.compile(r"^[0-9a-f]{16}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Upload:
    id: str
    name: str
    path: Path
    width: int
    height: int
    format: str

    def view(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "url": f"api/uploads/{self.id}",
        }


class UnknownUpload(LookupError):
    pass


class Uploads:
    def __init__(self, sessions_root: Path) -> None:
        self.root = Path(sessions_root).expanduser() / UPLOADS_FOLDER

    def add(self, filename: str, data: bytes) -> Upload:
        """Validate ``data`` as an image (the contracts' decoder and limits) and keep it; raises pydantic's ValidationError."""
        payload = ImagePayload.from_bytes(data)
        stem = _UNSAFE.sub("-", Path(filename or "upload").stem).strip("-.")[:60] or "upload"
        name = f"{stem}.{payload.format.lower().replace('jpeg', 'jpg')}"
        upload_id = secrets.token_hex(8)
        folder = self.root / upload_id
        folder.mkdir(parents=True)
        (folder / name).write_bytes(data)
        width, height = payload.size
        return Upload(upload_id, name, folder / name, width, height, payload.format)

    def prune(self, older_than_s: float = KEEP_UNUSED_S) -> int:
        """Remove uploads older than ``older_than_s``; sessions hold their own copies of what they used."""
        if not self.root.is_dir():
            return 0
        cutoff, removed = time.time() - older_than_s, 0
        for folder in self.root.iterdir():
            if _ID.match(folder.name) and folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def get(self, upload_id: str) -> Upload:
        folder = self.root / upload_id
        files = sorted(folder.iterdir()) if _ID.match(upload_id) and folder.is_dir() else []
        if not files:
            raise UnknownUpload(
                f"upload {upload_id!r} is not here (uploads are kept in {UPLOADS_FOLDER}); upload the image again"
            )
        path = files[0]
        payload = ImagePayload.from_bytes(path.read_bytes())
        width, height = payload.size
        return Upload(upload_id, path.name, path, width, height, payload.format)

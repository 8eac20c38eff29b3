"""Where attachment bytes live: the app's storage (crm.storage) under attachments/<xx>/<name> —
locally ATTACHMENTS_DIR (default <instance>/attachments), never under the static folder. An upload
is received into a temp file (counted, hashed, checked), then put whole, so a reader never sees
half a file; its name is random and only a database row leads to it (a file whose row was rolled
back is never served; `orphans()` lists such files for cleanup in a local folder)."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from crm.storage import storage

_STORED = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 1024 * 1024


class TooLarge(Exception):
    pass


def directory(app=None) -> Path:
    app = app or current_app
    configured = app.config.get("ATTACHMENTS_DIR")
    path = Path(configured) if configured else Path(app.instance_path) / "attachments"
    return path


def ensure_directory(app) -> Path:
    """Create the directory (0700) and refuse one inside the static folder (it would be public)."""
    path = directory(app).resolve()
    static = Path(app.static_folder).resolve() if app.static_folder else None
    if static is not None and (path == static or static in path.parents):
        raise RuntimeError(f"ATTACHMENTS_DIR {path} is inside the static folder; choose another directory")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def key_for(stored_name: str) -> str:
    """The storage key of a stored name; the name is checked to be ours (hex), so it cannot walk out."""
    if not _STORED.match(stored_name or ""):
        raise ValueError("not a stored attachment name")
    return f"attachments/{stored_name[:2]}/{stored_name}"


def path_for(stored_name: str) -> Path:
    """The file of a stored name in the local folder (the default storage)."""
    key_for(stored_name)
    return directory() / stored_name[:2] / stored_name


def readable(stored_name: str):
    """For send_file: the local path, or the object's stream from S3; FileMissing if gone."""
    return storage().readable(key_for(stored_name))


@dataclass
class Received:
    path: Path
    size: int
    sha256: str


def receive(stream: BinaryIO, max_bytes: int) -> Received:
    """Copy an upload into a temp file in the attachments directory, counting and hashing;
    over `max_bytes` the temp file is removed and TooLarge raised."""
    fd, name = tempfile.mkstemp(prefix=".upload-")  # this host's temp folder, whatever the storage
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge()
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Received(Path(name), size, digest.hexdigest())


def place(received: Received, stored_name: str) -> Path:
    """Put the received file under its stored name (whole or not at all); the temp file goes."""
    try:
        storage().put_file(key_for(stored_name), received.path)
    finally:
        received.path.unlink(missing_ok=True)


def write_bytes(data: bytes, stored_name: str) -> None:
    """Store bytes directly (demo data)."""
    storage().put(key_for(stored_name), data)


def remove(stored_name: str) -> None:
    try:
        key = key_for(stored_name)
    except ValueError:
        return
    storage().delete(key)


def orphans(known: set[str], older_than: float = 3600) -> list[Path]:
    """Files no row names (a transaction that failed after the write) and temp files left by an
    interrupted upload, older than `older_than` seconds: safe to delete."""
    import time

    base = directory()
    if not base.exists():
        return []
    found = list(base.glob(".upload-*"))
    found += [p for p in base.glob("??/*") if _STORED.match(p.name) and p.name not in known]
    limit = time.time() - older_than
    return [p for p in found if p.stat().st_mtime < limit]

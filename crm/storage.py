"""Where the files the app keeps live, by key ("models/sign-v3-….skops", "attachments/ab/ab…"):
a local folder (default: the instance folder, as before) or an S3-compatible object store
(MinIO, Aliyun OSS, Tencent COS, Huawei OBS, AWS) so that every web and worker host sees the
same files.

    CRM_STORAGE_URL=s3://bucket/prefix          (unset: the local folder)
    CRM_S3_ENDPOINT_URL=https://oss-cn-…        the store's endpoint (unset: AWS)
    CRM_S3_REGION, CRM_S3_ADDRESSING_STYLE      region; "path" (MinIO, default) or "virtual" (OSS)
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY   the keys, read by boto3 as usual

A put is atomic in both: a reader sees the old file or the whole new one, never half.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator
from urllib.parse import urlparse

_KEY_PART = re.compile(r"^[\w.\-]+$")
_CHUNK = 1024 * 1024


class FileMissing(FileNotFoundError):
    """No file under this key."""


def check_key(key: str) -> str:
    """A key is a relative path of plain parts: nothing can walk out of the store's root."""
    parts = (key or "").split("/")
    if any(p in ("", ".", "..") or not _KEY_PART.match(p) for p in parts):
        raise ValueError(f"not a storage key: {key!r}")
    return "/".join(parts)


class LocalStorage:
    """Files under a folder; a top-level area may live elsewhere (ATTACHMENTS_DIR)."""

    kind = "local"

    def __init__(self, root: Path, areas: dict[str, Path] | None = None):
        self.root = Path(root)
        self.areas = {name: Path(path) for name, path in (areas or {}).items()}

    def path(self, key: str) -> Path:
        first, _, rest = check_key(key).partition("/")
        if first in self.areas:
            return self.areas[first] / rest if rest else self.areas[first]
        return self.root / key

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A temp file in the same folder, renamed into place: atomic on one filesystem.
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    fh.write(data)
                else:
                    shutil.copyfileobj(data, fh, _CHUNK)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, source: Path) -> None:
        with open(source, "rb") as fh:
            self.put(key, fh)

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError as exc:
            raise FileMissing(key) from exc

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        try:
            fh = self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise FileMissing(key) from exc
        with fh:
            yield fh

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """A path on this host to read the file from (readers that want a file name)."""
        path = self.path(key)
        if not path.is_file():
            raise FileMissing(key)
        yield path

    def readable(self, key: str) -> Path:
        """What Flask's send_file takes: the file's path here (ranges and ETags work)."""
        path = self.path(key)
        if not path.is_file():
            raise FileMissing(key)
        return path

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        folder = self.path(prefix)
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        else:
            folder.unlink(missing_ok=True)

    def list(self, prefix: str) -> list[str]:
        """Keys under `prefix` (an area or a folder in it), sorted; temp files of a write in
        progress skipped."""
        base = check_key(prefix)
        folder = self.path(base)
        if not folder.is_dir():
            return []
        keys = []
        for path in folder.rglob("*"):
            rel = path.relative_to(folder).parts
            if path.is_file() and not path.is_symlink() and not any(p.startswith(".") for p in rel):
                keys.append("/".join((base, *rel)))
        return sorted(keys)


    def list_modified(self, prefix: str) -> list[tuple[str, float]]:
        """(key, last modified as a Unix time) under `prefix`."""
        out = []
        for key in self.list(prefix):
            try:
                out.append((key, self.path(key).stat().st_mtime))
            except FileNotFoundError:
                pass  # removed meanwhile
        return out


class S3Storage:
    """Objects in a bucket under a prefix, through boto3 (any S3-compatible endpoint)."""

    kind = "s3"

    def __init__(self, bucket: str, prefix: str, client):
        self.bucket, self.prefix, self.client = bucket, prefix.strip("/"), client

    def _name(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _key(self, name: str) -> str:
        return name[len(self.prefix) + 1:] if self.prefix else name

    def _missing(self, exc) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        return code in ("NoSuchKey", "404", "NotFound")

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=bytes(data))
        else:
            self.client.upload_fileobj(data, self.bucket, self._name(key))  # multipart when large

    def put_file(self, key: str, source: Path) -> None:
        self.client.upload_file(str(source), self.bucket, self._name(key))

    def get(self, key: str) -> bytes:
        with self.open(key) as body:
            return body.read()

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        body = self.readable(key)
        try:
            yield body
        finally:
            body.close()

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """Downloaded to a temp file for readers that want a file name; removed afterwards."""
        suffix = PurePosixPath(key).suffix
        with tempfile.TemporaryDirectory(prefix="crm-storage-") as folder:
            path = Path(folder) / f"file{suffix}"
            with self.open(key) as body, path.open("wb") as out:
                shutil.copyfileobj(body, out, _CHUNK)
            yield path

    def readable(self, key: str) -> BinaryIO:
        """What Flask's send_file takes: the object's body as a stream (send_file closes it)."""
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except ClientError as exc:
            if self._missing(exc):
                raise FileMissing(key) from exc
            raise

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            return True
        except ClientError as exc:
            if self._missing(exc):
                return False
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def delete_prefix(self, prefix: str) -> None:
        keys = self.list(prefix)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            objects = [{"Key": self._name(k)} for k in keys[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})

    def list(self, prefix: str) -> list[str]:
        return [key for key, _modified in self.list_modified(prefix)]

    def list_modified(self, prefix: str) -> list[tuple[str, float]]:
        """(key, last modified as a Unix time) under `prefix`, sorted by key."""
        base = self._name(prefix) + "/"
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base):
            found.extend((self._key(item["Key"]), item["LastModified"].timestamp()) for item in page.get("Contents", ()))
        return sorted(found)


class HashingReader:
    """Reads through to `stream`, counting and hashing what passed (an upload stored as it is
    read, its SHA-256 known at the end)."""

    def __init__(self, stream: BinaryIO):
        import hashlib

        self.stream, self.sha256, self.size = stream, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _s3_client():
    try:
        import boto3
        from botocore.config import Config as BotoConfig
    except ImportError as exc:
        raise RuntimeError("CRM_STORAGE_URL=s3://… needs boto3: pip install '.[s3]'") from exc

    return boto3.client(
        "s3",
        endpoint_url=os.environ.get("CRM_S3_ENDPOINT_URL") or None,
        region_name=os.environ.get("CRM_S3_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        config=BotoConfig(s3={"addressing_style": os.environ.get("CRM_S3_ADDRESSING_STYLE", "path")},
                          retries={"max_attempts": 5, "mode": "standard"}),
    )


def make_storage(config) -> LocalStorage | S3Storage:
    url = config.get("STORAGE_URL")
    if url:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise RuntimeError(f"CRM_STORAGE_URL must look like s3://bucket/prefix, not {url!r}")
        return S3Storage(parsed.netloc, parsed.path, _s3_client())
    areas = {}
    if config.get("ATTACHMENTS_DIR"):
        areas["attachments"] = Path(config["ATTACHMENTS_DIR"])
    return LocalStorage(Path(config["INSTANCE_PATH"]), areas)


def storage(app=None) -> LocalStorage | S3Storage:
    """The app's storage (one per app, made on first use)."""
    from flask import current_app

    app = app or current_app
    store = app.extensions.get("crm_storage")
    if store is None:
        store = app.extensions["crm_storage"] = make_storage(app.config)
    return store

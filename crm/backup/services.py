"""Make and restore a backup archive (.tar.gz).

Layout of the archive:
    database/crm.sqlite3   SQLite, copied with its online backup API (consistent while in use)
    database/crm.pgdump    PostgreSQL, pg_dump's custom format (restored with pg_restore)
    files/<key>            every file the app keeps (crm.storage: local folder or object store),
                           by its storage key: models/…, imports/…, tax_sheets/…, attachments/…
    secret_key             instance/secret_key, when the key is not given by the environment
    manifest.json          version, Alembic revision, created_at, and every member's sha256

The manifest is written last (its checksums are taken while the members are added); restore
reads everything into a folder beside the instance, checks it, and only then replaces anything.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

from crm import clock
from crm.extensions import db
from crm.storage import FileMissing, check_key, storage

FORMAT = 1
MANIFEST = "manifest.json"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """The message is for the operator; nothing was changed when a restore raises it."""


# Every area of the storage the app keeps files in.
FILE_AREAS = (
    "models",       # trained scoring models
    "imports",      # uploaded lead sheets and their reports of rejected rows
    "tax_sheets",   # uploaded tax/result sheets between preview and confirmation
    "attachments",  # files attached to screening cases, agenda items …
)


def _secret_key_path(app) -> Path:
    return Path(app.instance_path) / "secret_key"


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("county-investment-crm")
    except PackageNotFoundError:
        return "unknown"


def _script_directory(app):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


def current_revision() -> str | None:
    with db.engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None


def backend() -> str:
    return db.engine.dialect.name  # "sqlite" or "postgresql"


def _libpq(url) -> tuple[str, dict]:
    """A libpq connection string without the password, which goes in the environment instead
    (not on a command line every local user can read)."""
    url = make_url(str(url) if not hasattr(url, "drivername") else url.render_as_string(hide_password=False))
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict, what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def _dump_database(into: Path) -> Path:
    if backend() == "sqlite":
        source_path = db.engine.url.database
        target = into / "crm.sqlite3"
        # The online backup API copies a consistent snapshot while the web and worker go on.
        source = sqlite3.connect(source_path)
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
        return target
    target = into / "crm.pgdump"
    dsn, env = _libpq(db.engine.url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", f"--dbname={dsn}"],
         env, "pg_dump")
    return target


class _Hashing:
    """A file object that hashes what tarfile reads from it."""

    def __init__(self, fh):
        self.fh, self.sha = fh, hashlib.sha256()

    def read(self, size=-1):
        data = self.fh.read(size)
        self.sha.update(data)
        return data


def _add(tar: tarfile.TarFile, path: Path, name: str, files: list[dict]) -> None:
    info = tar.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as fh:
        hashing = _Hashing(fh)
        tar.addfile(info, hashing)
    files.append({"path": name, "size": info.size, "sha256": hashing.sha.hexdigest()})


def default_output(app) -> Path:
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    return Path(app.instance_path) / "backups" / f"crm-backup-{stamp}.tar.gz"


@dataclass
class Made:
    path: Path
    manifest: dict


def make_backup(output: Path | None = None) -> Made:
    """Write the archive to `output` (atomically: a partial file is never left under its name)."""
    app = current_app._get_current_object()
    output = Path(output) if output else default_output(app)
    output.parent.mkdir(parents=True, exist_ok=True)
    revision = current_revision()
    if revision is None:
        raise BackupError("The database has no Alembic revision; run `crm db upgrade` first.")
    files: list[dict] = []
    manifest = {
        "format": FORMAT,
        "app": "county-investment-crm",
        "version": app_version(),
        "alembic_revision": revision,
        "created_at": clock.now().isoformat(),
        "database": {"backend": backend()},
        "secret_key": None,
        "areas": list(FILE_AREAS),
        "files": files,
    }
    handle, partial = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    os.fchmod(handle, 0o600)  # it holds the secret key and every record
    try:
        with tempfile.TemporaryDirectory(prefix=".backup-", dir=app.instance_path) as work, \
                os.fdopen(handle, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            dump = _dump_database(Path(work))
            manifest["database"]["path"] = f"database/{dump.name}"
            _add(tar, dump, f"database/{dump.name}", files)
            key = _secret_key_path(app)
            if key.is_file():
                _add(tar, key, "secret_key", files)
                manifest["secret_key"] = "secret_key"
            elif os.environ.get("SECRET_KEY"):
                manifest["secret_key"] = "environment"  # the operator keeps it; we cannot
            store = storage(app)
            for area in FILE_AREAS:
                for key in store.list(area):
                    try:
                        with store.local_path(key) as path:  # the file itself, or a copy from S3
                            _add(tar, path, f"files/{key}", files)
                    except FileMissing:
                        continue  # deleted since the listing (a purge, a removed attachment)
            body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(clock.now().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(body))
        os.replace(partial, output)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return Made(output, manifest)


# --- restore -----------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            sha.update(block)
    return sha.hexdigest()


def unpack(archive: Path, into: Path) -> dict:
    """Extract and check an archive; return its manifest. BackupError (with what is wrong) when
    the archive is unreadable, incomplete, or a member does not match its checksum."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"No such file: {archive}")
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            # The "data" filter refuses absolute paths, "..", links out of the folder, devices.
            tar.extractall(into, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"The archive {archive.name} is damaged or not a CRM backup ({exc}).") from exc
    try:
        manifest = json.loads((into / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"The archive {archive.name} has no readable manifest.json; "
                          "it is damaged or not a CRM backup.") from exc
    if manifest.get("format") != FORMAT or manifest.get("app") != "county-investment-crm":
        raise BackupError(f"The archive {archive.name} is not a CRM backup of a format this version reads.")
    listed = set()
    for entry in manifest.get("files", []):
        name = entry["path"]
        listed.add(name)
        if name.startswith("files/"):
            try:
                key = check_key(name[len("files/"):])
            except ValueError:
                key = ""
            if key.split("/", 1)[0] not in FILE_AREAS:
                raise BackupError(f"The archive holds a file outside the app's folders: {name}")
        path = into / name
        if not path.is_file():
            raise BackupError(f"The archive is damaged: {name} is missing.")
        if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            raise BackupError(f"The archive is damaged: {name} does not match its checksum.")
    present = {p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()} - {MANIFEST}
    if present - listed:
        raise BackupError(f"The archive holds files its manifest does not list: {sorted(present - listed)[:5]}")
    database = manifest.get("database") or {}
    if database.get("path") not in listed:
        raise BackupError("The archive holds no database.")
    return manifest


def check_revision(manifest: dict) -> str:
    """'head' or 'older'; BackupError for a revision this code does not know (a newer version
    made the backup: restoring it here would leave a schema no migration can reach)."""
    app = current_app._get_current_object()
    scripts = _script_directory(app)
    revision = manifest.get("alembic_revision")
    try:
        known = revision is not None and scripts.get_revision(revision) is not None
    except Exception:
        known = False
    if not known:
        raise BackupError(f"The backup is at database revision {revision}, which this version of the CRM "
                          f"does not know (made by a newer version?). Install that version to restore it.")
    return "head" if revision in scripts.get_heads() else "older"


def _restore_database(manifest: dict, folder: Path) -> None:
    dump = folder / manifest["database"]["path"]
    if manifest["database"]["backend"] != backend():
        raise BackupError(f"The backup holds a {manifest['database']['backend']} database but this "
                          f"CRM is configured for {backend()} (DATABASE_URL).")
    if backend() == "sqlite":
        target = db.engine.url.database
        db.session.remove()
        db.engine.dispose()
        # The backup API writes into the live file (page by page, under its lock): a process
        # that still has it open sees the restored database, not a deleted inode.
        source = sqlite3.connect(dump)
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
        return
    db.session.remove()
    db.engine.dispose()
    dsn, env = _libpq(db.engine.url)
    # One transaction: first drop every table and sequence of the schema (also those a newer
    # migration made, which `pg_restore --clean` would leave behind), then the dump's script.
    # Any error rolls all of it back and the database stays as it was.
    script = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--file=-", str(dump)],
                            env=env, capture_output=True)
    if script.returncode != 0:
        raise BackupError(f"pg_restore failed ({script.returncode}): {script.stderr.decode(errors='replace')[-2000:]}")
    result = subprocess.run(["psql", "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1",
                             f"--dbname={dsn}", "--file=-"],
                            input=_DROP_ALL + script.stdout, env=env, capture_output=True)
    if result.returncode != 0:
        raise BackupError(f"Restoring the database failed, it was left as it was: "
                          f"{result.stderr.decode(errors='replace').strip()[-2000:]}")


_DROP_ALL = b"""
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.tablename);
  END LOOP;
  FOR r IN SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema() LOOP
    EXECUTE format('DROP SEQUENCE IF EXISTS %I CASCADE', r.sequence_name);
  END LOOP;
END $$;
"""


def _restore_files(manifest: dict, folder: Path) -> None:
    """Every file of the archive put in the storage, then what the archive does not have removed
    (in that order: a restore cut short loses nothing)."""
    store = storage()
    wanted = {entry["path"][len("files/"):] for entry in manifest["files"] if entry["path"].startswith("files/")}
    for key in sorted(wanted):
        store.put_file(key, folder / "files" / key)
    for area in manifest.get("areas", []):
        if area in FILE_AREAS:
            for key in store.list(area):
                if key not in wanted:
                    store.delete(key)


@dataclass
class Restored:
    manifest: dict
    revision_state: str  # "head" or "older"
    secret_key: str | None  # "restored", "environment", or None


def restore(archive: Path) -> Restored:
    """Check the archive, then replace the database, the files and the secret key with its own.
    The web and worker processes should be stopped while this runs."""
    app = current_app._get_current_object()
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=app.instance_path) as work:
        folder = Path(work)
        manifest = unpack(archive, folder)
        state = check_revision(manifest)
        if manifest["database"]["backend"] != backend():
            raise BackupError(f"The backup holds a {manifest['database']['backend']} database but this "
                              f"CRM is configured for {backend()} (DATABASE_URL).")
        _restore_database(manifest, folder)
        _restore_files(manifest, folder)
        key_state = None
        if manifest.get("secret_key") == "secret_key":
            target = _secret_key_path(app)
            tmp = target.with_name(".secret_key.restoring")
            tmp.unlink(missing_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write((folder / "secret_key").read_bytes())
            os.replace(tmp, target)
            key_state = "restored"
        elif manifest.get("secret_key") == "environment":
            key_state = "environment"
    return Restored(manifest, state, key_state)

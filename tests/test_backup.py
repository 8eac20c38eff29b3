"""`crm backup` and `crm restore` on a database of the test's own (the suite's backend): seed,
back up, wipe, restore — the same rows, the same files, the same secret key, a working login;
and a damaged archive or one from a newer version is refused before anything changes."""
import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.ops_support import own_database  # noqa: F401  (fixture)
from tests.s3_server import s3_store  # noqa: F401  (fixture)

AREAS = ("models", "imports", "tax_sheets", "attachments")


def _kept_files(instance):
    found = {}
    for area in AREAS + ("secret_key",):
        root = instance / area
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            found[str(path.relative_to(instance))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _rewrite(archive, target, change):
    """Copy an archive member by member; change(name, data) returns the new bytes (or None)."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(target, "w:gz") as out:
        for info in src.getmembers():
            data = src.extractfile(info).read()
            data = change(info.name, data) or data
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


def _wipe(own):
    if own.backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):  # the disk is gone: restore onto a new, empty file
            Path(own.url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        engine = own.engine()
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    for area in AREAS + ("secret_key",):
        path = own.instance / area
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


@pytest.fixture()
def seeded(own_database):
    own = own_database
    own.crm("db", "upgrade")
    own.crm("seed-demo", "--leads", "120")
    # A file of every kind the demo does not make (the demo makes attachments).
    (own.instance / "models").mkdir(exist_ok=True)
    (own.instance / "models" / "sign-v1-abc.skops").write_bytes(b"model bytes " * 100)
    (own.instance / "imports" / "7").mkdir(parents=True)
    (own.instance / "imports" / "7" / "leads.xlsx").write_bytes(b"PK sheet")
    (own.instance / "tax_sheets").mkdir(exist_ok=True)
    (own.instance / "tax_sheets" / ("ab" * 16 + ".csv")).write_text("纳税人,税额\n", encoding="utf-8")
    return own


def test_backup_wipe_restore_gives_back_the_same_county(seeded, tmp_path):
    own = seeded
    counts, files = own.counts(), _kept_files(own.instance)
    assert counts["leads"] == 120 and counts["attachments"] > 0 and "secret_key" in files
    archive = tmp_path / "off-host" / "crm.tar.gz"

    out = own.crm("backup", "--output", str(archive)).stdout
    assert archive.is_file() and "Backup written" in out
    assert archive.stat().st_mode & 0o077 == 0  # holds the secret key: the owner's only
    with tarfile.open(archive, "r:gz") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = set(tar.getnames())
    head = own.crm("db", "heads").stdout.split()[0]
    assert manifest["alembic_revision"] == head and manifest["database"]["backend"] == own.backend
    assert {f["path"] for f in manifest["files"]} | {"manifest.json"} == names
    assert {"secret_key", "files/models/sign-v1-abc.skops", "files/imports/7/leads.xlsx"} <= names

    # Over a live database changed since (and a table a later version would have made) …
    engine = own.engine()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM lead_contacts"))
        conn.execute(text("CREATE TABLE made_later (id integer)"))
    engine.dispose()
    own.crm("restore", str(archive), "--yes")
    assert own.counts() == counts and _kept_files(own.instance) == files

    # … and onto nothing: the disk was lost.
    _wipe(own)
    assert own.counts().get("leads") is None
    out = own.crm("restore", str(archive), "--yes").stdout
    assert "Restored" in out

    assert own.counts() == counts
    assert _kept_files(own.instance) == files
    assert "LOGIN OK" in own.crm("-m", "tests.login_check", "admin", python=True).stdout


def test_a_damaged_or_foreign_archive_is_refused_and_nothing_changes(seeded, tmp_path):
    own = seeded
    archive = tmp_path / "crm.tar.gz"
    own.crm("backup", "--output", str(archive))
    engine = own.engine()
    with engine.begin() as conn:  # a change after the backup, which a refused restore must keep
        conn.execute(text("UPDATE units SET name = name || '（改）'"))
    engine.dispose()
    counts, files = own.counts(), _kept_files(own.instance)

    flipped = tmp_path / "flipped.tar.gz"
    _rewrite(archive, flipped, lambda name, data: b"X" + data[1:] if name.startswith("files/models/") else None)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    newer = tmp_path / "newer.tar.gz"

    def bump(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["alembic_revision"] = "99z000000001"
            return json.dumps(manifest).encode()
    _rewrite(archive, newer, bump)

    for bad, words in ((flipped, "does not match its checksum"), (truncated, "damaged"),
                       (newer, "does not know")):
        result = own.crm("restore", str(bad), "--yes", check=False)
        assert result.returncode != 0, result.stdout
        assert words in result.stderr and "Nothing was changed" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr

    assert own.counts() == counts
    assert _kept_files(own.instance) == files
    engine = own.engine()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM units WHERE name LIKE '%（改）'")).scalar() == counts["units"]
    engine.dispose()


def test_backup_and_restore_through_an_object_store(own_database, s3_store, tmp_path):
    """With CRM_STORAGE_URL=s3://… the kept files come from the bucket and go back into it."""
    from crm.storage import make_storage

    url, s3_env = s3_store
    own = own_database
    own.extra_env = {**s3_env, "CRM_STORAGE_URL": url}
    own.crm("db", "upgrade")
    store = make_storage({"STORAGE_URL": url, "INSTANCE_PATH": str(own.instance)})
    store.put("models/sign-v1-abc.skops", b"model")
    store.put("attachments/ab/" + "ab" * 16, b"%PDF-1.4 bytes")
    archive = tmp_path / "crm.tar.gz"
    own.crm("backup", "--output", str(archive))
    with tarfile.open(archive, "r:gz") as tar:
        assert {"files/models/sign-v1-abc.skops", "files/attachments/ab/" + "ab" * 16} <= set(tar.getnames())

    store.delete_prefix("models")
    store.put("attachments/cd/" + "cd" * 16, b"came after the backup")
    own.crm("restore", str(archive), "--yes")
    assert store.get("models/sign-v1-abc.skops") == b"model"
    assert store.list("attachments") == ["attachments/ab/" + "ab" * 16]  # the later file is not in the backup
    assert not (own.instance / "models").exists()  # nothing went to the local disk

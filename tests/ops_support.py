"""For tests that run the `crm` command on a database of their own (backups, migrations): the
suite's database is never touched, and the one process-wide engine (crm.extensions.db) stays on it."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

ROOT = Path(__file__).resolve().parent.parent
CRM = str(Path(sys.executable).parent / "crm")


class OwnDatabase:
    def __init__(self, url: str, instance: Path, admin=None, name: str | None = None):
        self.url, self.instance, self.admin, self.name = url, instance, admin, name
        self.extra_env: dict = {}

    @property
    def backend(self) -> str:
        return "postgresql" if self.url.startswith("postgresql") else "sqlite"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "SECRET_KEY", "CRM_CLOCK_NOW", "CRM_ATTACHMENTS_DIR", "CRM_STORAGE_URL")}
        # Its own embedded Redis under its own instance folder; the secret key kept there as a file.
        env.update(DATABASE_URL=self.url, CRM_INSTANCE_PATH=str(self.instance),
                   CRM_REDIS_PREFIX=f"crmops-{uuid.uuid4().hex[:8]}")
        env.update(self.extra_env)
        return env

    def crm(self, *args, check=True, python=False) -> subprocess.CompletedProcess:
        command = [sys.executable, *args] if python else [CRM, *args]
        result = subprocess.run(command, env=self.env(), cwd=ROOT, capture_output=True, text=True, timeout=300)
        if check:
            assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
        return result

    def engine(self):
        url = self.url.replace("postgresql://", "postgresql+psycopg://", 1)
        return create_engine(url)

    def counts(self) -> dict[str, int]:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                names = inspect(conn).get_table_names()
                return {name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() for name in names}
        finally:
            engine.dispose()


@pytest.fixture()
def own_database(tmp_path):
    """An empty database on the suite's backend (SQLite file, or a PostgreSQL database created
    for the test and dropped after) and an instance folder."""
    from tests.conftest import _postgres_database

    instance = tmp_path / "instance"
    url, pg = _postgres_database()
    own = OwnDatabase(url or f"sqlite:///{tmp_path}/own.sqlite3", instance, *(pg or (None, None)))
    try:
        yield own
    finally:
        if instance.exists():
            own.crm("stop-embedded-redis", check=False)
        if pg:
            admin, name = pg
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

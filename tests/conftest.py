"""One app per session; every test runs inside a transaction that is rolled back (savepoints).

Backends: SQLite + embedded Redis by default; set CRM_TEST_POSTGRES (a server URL, e.g.
postgresql://postgres@127.0.0.1:5432/postgres) and CRM_TEST_REDIS_URL to run the same suite on
PostgreSQL and Redis: a throw-away database is created for the session and dropped after.
"""
from __future__ import annotations

import os
import re
import tempfile
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests import factories

_TMP = tempfile.mkdtemp(prefix="crm-tests-")


def _postgres_database():
    server = os.environ.get("CRM_TEST_POSTGRES")
    if not server:
        return None, None
    name = f"crm_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + "/" + name
    return url, (admin, name)


@pytest.fixture(scope="session")
def app():
    url, pg = _postgres_database()
    os.environ["DATABASE_URL"] = url or f"sqlite:///{_TMP}/test.sqlite3"
    if os.environ.get("CRM_TEST_REDIS_URL"):
        os.environ["REDIS_URL"] = os.environ["CRM_TEST_REDIS_URL"]
    else:
        os.environ.pop("REDIS_URL", None)
    os.environ["CRM_REDIS_PREFIX"] = f"crmtest-{uuid.uuid4().hex[:8]}"
    from crm import create_app
    from crm.extensions import db, redis_store

    # The test's own sessions stay open across a worker's run: a deferred BEGIN must not take
    # SQLite's write lock (workers and the live server keep BEGIN IMMEDIATE).
    application = create_app({"INSTANCE_PATH": _TMP, "SECRET_KEY": "test-secret", "TESTING": True,
                              "SQLITE_IMMEDIATE": False,
                              "LOGIN_FAILURES_PER_ADDRESS": "60 per 15 minutes"})
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()  # the real migrations, on the real backend
    yield application
    with application.app_context():
        client = redis_store.client
        for key in client.scan_iter(match="*" + application.config["REDIS_PREFIX"] + "*"):
            client.delete(key)
        db.session.remove()
        db.engine.dispose()
        if not application.config["REDIS_URL"]:
            from crm.embedded_redis import stop_server

            stop_server(application.instance_path)
    if pg:
        admin, name = pg
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def db_session(app):
    """The scoped session bound to one connection whose outer transaction is rolled back.

    No app context stays pushed during the test: each test-client request must get its own
    (Flask reuses a pushed one, and `g` — where Flask-Login caches the user — would leak).
    """
    from crm.extensions import db

    connection = db.engine.connect()
    outer = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db.session
    finally:
        db.session.remove()
        outer.rollback()
        connection.close()
        db.session.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    from crm.extensions import redis_store

    with app.app_context():
        client = redis_store.client
        for key in client.scan_iter(match="*" + app.config["REDIS_PREFIX"] + "*"):
            client.delete(key)
    yield


class CSRFClient:
    """Wraps Flask's test client: form posts carry the CSRF token a browser would send."""

    _TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

    def __init__(self, flask_client):
        self.raw = flask_client

    def csrf_token(self) -> str:
        page = self.raw.get("/login", follow_redirects=True)
        return self._TOKEN.search(page.get_data(as_text=True)).group(1)

    def get(self, *args, **kwargs):
        return self.raw.get(*args, **kwargs)

    def post(self, url, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf and "json" not in kwargs:
            data.setdefault("csrf_token", self.csrf_token())
        if "json" in kwargs and csrf:
            headers = dict(kwargs.pop("headers", {}) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
            return self.raw.post(url, **kwargs)
        return self.raw.post(url, data=data, **kwargs)

    def __getattr__(self, name):
        return getattr(self.raw, name)

    def login(self, user, password=factories.PASSWORD):
        response = self.post("/login", {"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response


@pytest.fixture()
def client(app, db_session):
    return CSRFClient(app.test_client())


@pytest.fixture()
def make_client(app, db_session):
    return lambda: CSRFClient(app.test_client())


MIGRATION_SEEDED_TABLES = ("step_definitions",)


@pytest.fixture()
def committed(app):
    """Real commits, for tests where another process (an RQ worker) must see the data; every
    table is emptied afterwards so the transactional tests start clean again."""
    from crm.extensions import db

    db.session.remove()
    with app.app_context():
        tables = {t.name: t for t in db.metadata.sorted_tables}
        with db.engine.connect() as conn:  # rows the migrations put in (the 23 steps) come back after
            seeded = {name: [dict(r._mapping) for r in conn.execute(tables[name].select())]
                      for name in MIGRATION_SEEDED_TABLES}
        yield db.session
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            for name, rows in seeded.items():
                if rows:
                    conn.execute(tables[name].insert(), rows)


@pytest.fixture()
def clock_at(app, monkeypatch):
    """Fix the workflow's clock (crm.clock): clock_at("2024-09-27T10:00:00+08:00"), inside the
    app's requests and in services the test calls with no app context."""
    def set_clock(moment):
        app.config["CLOCK_NOW"] = moment
        if moment is None:
            monkeypatch.delenv("CRM_CLOCK_NOW", raising=False)
        else:
            monkeypatch.setenv("CRM_CLOCK_NOW", moment if isinstance(moment, str) else moment.isoformat())
    yield set_clock
    app.config["CLOCK_NOW"] = None


def run_worker(app, *, queues="slow", wait=True, env_extra=None, scheduler=False):
    """A real `crm worker --burst` in its own process group, on the suite's database and Redis."""
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"],
           "CRM_INSTANCE_PATH": app.instance_path, "CRM_REDIS_PREFIX": app.config["REDIS_PREFIX"],
           "SECRET_KEY": "test-secret"}
    if app.config["REDIS_URL"]:
        env["REDIS_URL"] = app.config["REDIS_URL"]
    env.update(env_extra or {})
    proc = subprocess.Popen([str(Path(sys.executable).parent / "crm"), "worker", "--burst", "--queues", queues,
                             "--with-scheduler" if scheduler else "--without-scheduler"], env=env, cwd=Path(__file__).resolve().parent.parent,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if wait:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    return proc

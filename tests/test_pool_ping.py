"""A pooled PostgreSQL connection closed by the server (a restart, a firewall's idle timeout) is
replaced before use when it sat idle (crm.database._ping_connections_left_idle), without the
round trip of pool_pre_ping on every checkout."""
from __future__ import annotations

import pytest
from sqlalchemy import exc, text

from crm import database
from crm.extensions import db


@pytest.fixture()
def pg_engine(app):
    url = app.config["DATABASE_URL"]
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (SQLite has no server to close a connection)")
    engine = database._make_engine(url)
    yield engine
    engine.dispose()


def _pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def _terminate(app, pid: int) -> None:
    with app.app_context(), db.engine.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()


def _wait_gone(app, pid: int) -> None:
    import time

    with app.app_context(), db.engine.connect() as conn:
        for _ in range(1000):  # the backend ends asynchronously after pg_terminate_backend
            if not conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
                return
            time.sleep(0.01)
    raise AssertionError("the backend did not end")


def test_an_idle_connection_closed_by_the_server_is_replaced_before_use(app, pg_engine, monkeypatch):
    first = _pid(pg_engine)  # connected, used, back in the pool
    _terminate(app, first)
    _wait_gone(app, first)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # as if it had sat idle long enough
    assert _pid(pg_engine) != first  # pinged, found dead, replaced: the request never sees it


def test_a_connection_used_moments_ago_is_not_pinged(app, pg_engine, monkeypatch):
    """Under load no checkout pays a ping: a connection that died within the idle limit is found
    by its first statement instead (the trade-off, one failed request), and the pool recovers."""
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 3600.0)  # however slow the machine
    first = _pid(pg_engine)
    _terminate(app, first)
    _wait_gone(app, first)
    with pytest.raises(exc.OperationalError), pg_engine.connect() as conn:
        conn.scalar(text("SELECT 1"))
    assert _pid(pg_engine) != first

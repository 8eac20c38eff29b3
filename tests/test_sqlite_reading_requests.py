"""On SQLite a reading request (GET, HEAD) never takes the write lock: it begins deferred and
reads beside a writer (WAL); writing requests and workers keep BEGIN IMMEDIATE (issue 18)."""
from __future__ import annotations

import os
import sqlite3

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from crm.extensions import db
from tests import factories
from tests.conftest import CSRFClient


@pytest.mark.skipif(bool(os.environ.get("CRM_TEST_POSTGRES")), reason="SQLite's write lock")
def test_reading_requests_do_not_wait_for_sqlites_write_lock(app, committed):
    from crm.database import _make_engine

    officer = factories.user(roles=["officer"])
    lead = factories.lead(owner=officer, company_name="福建富远铝业有限公司")
    committed.commit()
    # The production setting (BEGIN IMMEDIATE; the suite's own app begins deferred), waiting
    # 0.3 s for a lock instead of 30.
    engine = _make_engine(app.config["DATABASE_URL"], sqlite_immediate=True)

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=300")

    saved = db.engine
    db.session.remove()
    db.engine = engine
    db.session.configure(bind=engine)
    holder = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"), isolation_level=None)
    try:
        client = CSRFClient(app.test_client())
        client.login(officer)
        holder.execute("BEGIN IMMEDIATE")  # another process writing (an import, a worker)
        page = client.get(f"/leads/{lead.id}")
        assert page.status_code == 200 and "福建富远铝业有限公司" in page.get_data(as_text=True)
        assert client.get("/leads").status_code == 200
        follow_up = {"kind": "call", "occurred_on": "2024-03-05", "summary": "电话沟通用地需求"}
        with pytest.raises(OperationalError, match="locked"):
            client.post(f"/leads/{lead.id}/activities", follow_up)  # a write waits, then gives up
        holder.execute("ROLLBACK")
        assert client.post(f"/leads/{lead.id}/activities", follow_up).status_code == 302
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
        db.session.remove()
        db.engine = saved
        db.session.configure(bind=saved)
        engine.dispose()

"""On SQLite a reading request (GET, HEAD) never takes the write lock: it begins deferred and
reads beside a writer (WAL); writing requests and workers keep BEGIN IMMEDIATE; a reading
request that writes still succeeds (issue 18)."""
from __future__ import annotations

import os
import sqlite3

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from crm.extensions import db
from tests import factories
from tests.conftest import CSRFClient

pytestmark = pytest.mark.skipif(bool(os.environ.get("CRM_TEST_POSTGRES")), reason="SQLite's write lock")


@pytest.fixture()
def production_engine(app, committed):
    """The app's session on an engine with the production setting (BEGIN IMMEDIATE; the suite's
    own app begins deferred), waiting 0.3 s for a lock instead of 30; and a raw connection to
    the same file, another process's."""
    from crm.database import _make_engine

    engine = _make_engine(app.config["DATABASE_URL"], sqlite_immediate=True)

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=300")

    saved = db.engine
    db.session.remove()
    db.engine = engine
    db.session.configure(bind=engine)
    other = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"), isolation_level=None)
    try:
        yield engine, other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
        db.session.remove()
        db.engine = saved
        db.session.configure(bind=saved)
        engine.dispose()


def test_reading_requests_do_not_wait_for_the_write_lock(app, committed, production_engine):
    _engine, other = production_engine
    officer = factories.user(roles=["officer"])
    lead = factories.lead(owner=officer, company_name="福建富远铝业有限公司")
    committed.commit()
    lead_id = lead.id
    client = CSRFClient(app.test_client())

    def request(method, *args, **kwargs):
        # Each request in an app context (and a session) of its own, as on a server: the
        # `committed` fixture keeps one for the whole test.
        with app.app_context():
            return getattr(client, method)(*args, **kwargs)

    request("login", officer)
    other.execute("BEGIN IMMEDIATE")  # another process writing (an import, a worker)
    page = request("get", f"/leads/{lead_id}")
    assert page.status_code == 200 and "福建富远铝业有限公司" in page.get_data(as_text=True)
    assert request("get", "/leads").status_code == 200
    follow_up = {"kind": "call", "occurred_on": "2024-03-05", "summary": "电话沟通用地需求"}
    with pytest.raises(OperationalError, match="locked"):
        request("post", f"/leads/{lead_id}/activities", follow_up)  # a write waits, then gives up
    other.execute("ROLLBACK")
    assert request("post", f"/leads/{lead_id}/activities", follow_up).status_code == 302


def test_a_reading_request_that_writes_succeeds_though_another_process_committed_meanwhile(
        app, committed, production_engine):
    """An API GET records the token's last use. Another process commits right after the request's
    first read: the request's snapshot is then stale, and its write could only fail ("database
    is locked", at once); it is run again as a writing request and answers 200."""
    from crm.auth.models import ApiToken, Unit
    from crm.auth.services import issue_api_token

    engine, other = production_engine
    officer = factories.user(roles=["officer"])
    lead = factories.lead(owner=officer, company_name="福建富远铝业有限公司")
    token, raw = issue_api_token(officer, "台账同步", 30)
    bystander = factories.unit("水南镇")
    committed.commit()
    token_id, bystander_id, lead_id = token.id, bystander.id, lead.id
    armed = []

    @event.listens_for(engine, "after_cursor_execute")
    def _commit_elsewhere(_conn, _cursor, statement, *_args):
        if armed and statement.lstrip().upper().startswith("SELECT"):
            armed.clear()
            other.execute("UPDATE units SET name = '水南镇（新）' WHERE id = ?", (bystander_id,))

    armed.append(True)
    response = app.test_client().get(f"/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.json["company_name"] == "福建富远铝业有限公司"
    assert not armed  # the other process did commit in the middle of the request
    db.session.remove()
    assert db.session.get(Unit, bystander_id).name == "水南镇（新）"
    assert db.session.get(ApiToken, token_id).last_used_at is not None

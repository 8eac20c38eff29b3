"""The app's three rules that nobody should have to remember (issue 18):

- the request commits whenever it succeeded: a view that only runs a Core UPDATE keeps its write;
- every date comes from crm.clock: with the host on UTC at 07:00 Beijing time, an officer's
  "today" is the county's today, not yesterday;
- session listeners exist because create_app connected them, not because a module was imported.
"""
from __future__ import annotations

import subprocess
import sys
import time

from sqlalchemy import select

from crm.extensions import db
from crm.leads.models import Lead
from crm.notifications.models import Notification
from tests import factories


def test_a_view_that_only_runs_a_core_update_keeps_its_write(app, committed):
    from crm.notifications.services import notify

    user = factories.user(roles=["officer"])
    for n in range(3):
        notify([user.id], "screening_closed", {"company": f"福建测试{n}有限公司", "result": "pass"}, "/")
    committed.commit()
    from tests.conftest import CSRFClient

    client = CSRFClient(app.test_client())
    client.login(user)
    # POST /notifications/read-all runs one Core UPDATE through the session and nothing else.
    assert client.post("/notifications/read-all").status_code == 302
    with db.engine.connect() as conn:  # another connection: only what was committed
        unread = conn.execute(select(Notification.id).where(Notification.user_id == user.id,
                                                            Notification.read_at.is_(None))).all()
    assert unread == []


def _on_utc_host(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_at_seven_in_the_morning_beijing_on_a_utc_host_today_is_the_countys_today(client, db_session,
                                                                                   clock_at, monkeypatch):
    _on_utc_host(monkeypatch)
    try:
        clock_at("2026-12-07T07:00:00+08:00")  # 2026-12-06 23:00 on the host's clock
        officer = factories.user(roles=["officer"])
        client.login(officer)
        form = {"company_name": "三明市晨光竹木制品有限公司", "uscc": "", "project_name": "", "chain_id": "",
                "chain_node_id": "", "source_id": "", "source_kind": "", "planned_investment_wan": "3000",
                "fixed_asset_investment_wan": "", "land_area_mu": "", "expected_output_wan": "",
                "expected_tax_wan": "", "owner_id": ""}
        tomorrow = client.post("/leads/new", {**form, "created_on": "2026-12-08"})
        assert tomorrow.status_code == 400  # the county's tomorrow is still refused
        response = client.post("/leads/new", {**form, "created_on": "2026-12-07"})
        assert response.status_code == 302, response.get_data(as_text=True)[:800]
        lead = db.session.scalars(select(Lead).where(Lead.company_name == "三明市晨光竹木制品有限公司")).one()
        assert lead.created_on.isoformat() == "2026-12-07"
        from crm.audit.models import AuditEntry  # its timestamp is the workflow's moment too
        stamped = db.session.scalars(select(AuditEntry.at).where(AuditEntry.entity_type == "leads",
                                                                  AuditEntry.entity_id == lead.id)).first()
        assert stamped.isoformat() == "2026-12-06T23:00:00+00:00"
        page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
        assert 'value="2026-12-07"' in page  # the follow-up form's date defaults to the county's today
        left_empty = client.post("/leads/new", {**form, "company_name": "三明市晨光竹木制品二厂", "created_on": ""})
        assert left_empty.status_code == 302
        second = db.session.scalars(select(Lead).where(Lead.company_name == "三明市晨光竹木制品二厂")).one()
        assert second.created_on.isoformat() == "2026-12-07"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_no_date_or_time_is_read_past_crm_clock():
    """The host's clock appears in one module only: everything else asks crm.clock."""
    out = subprocess.run(["grep", "-rnE", r"date\.today\(\)|datetime\.now\(|datetime\.utcnow\(\)|time\.localtime",
                          "crm", "--include=*.py"], capture_output=True, text=True)
    offenders = [line for line in out.stdout.splitlines() if not line.startswith("crm/clock.py:")]
    assert offenders == []


_FRESH = """
from sqlalchemy import event
from sqlalchemy.orm import Session
import crm.audit.listener as audit, crm.scoring.hooks as hooks, crm.lights.receivers as lights
before = [event.contains(Session, 'after_flush', audit._write_audit),
          event.contains(Session, 'before_flush', hooks._mark_pending),
          event.contains(Session, 'before_commit', lights._recompute_pending)]
from crm import create_app
create_app({'DATABASE_URL': 'sqlite://', 'SECRET_KEY': 'x', 'TESTING': True})
after = [event.contains(Session, 'after_flush', audit._write_audit),
         event.contains(Session, 'before_flush', hooks._mark_pending),
         event.contains(Session, 'before_commit', lights._recompute_pending)]
print(before, after)
"""


def test_session_listeners_are_connected_by_create_app_not_by_an_import(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "CRM_INSTANCE_PATH": str(tmp_path), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _FRESH], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[False, False, False] [True, True, True]", out.stderr[-2000:]

"""Reminders and closing at the deadline, run by a real RQ worker with a controllable clock."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.notifications.models import Notification
from crm.screening import services
from crm.screening.models import ScreeningCase
from tests import factories
from tests.conftest import run_worker

SUBMITTED = "2024-09-27T10:00:00+08:00"        # due Tue 2024-10-08 24:00 (National Day skipped)
REMINDER_TIME = "2024-10-08T09:00:00+08:00"    # the reminder goes at 08:30 on the last day
AFTER_DEADLINE = "2024-10-09T00:05:00+08:00"


def _ratings():
    return {f"rating_{d}": 4 for d in ("scale", "intensity", "tech", "prospects", "compliance")}


def _county(app, with_email=False):
    """Two member units; the first answers in time, the second never does. Committed."""
    with app.test_request_context():
        fagai, fagai_screener = factories.member_unit("县发改局")
        ziran, ziran_screener = factories.member_unit("县自然资源局")
        if with_email:
            ziran_screener.email = "ziran@jiangle.example"
        services.set_member_units([fagai.id, ziran.id], {})
        officer = factories.user()
        lead = factories.negotiating_lead(owner=officer, company_name="福建永盛铝业有限公司")
        app.config["CLOCK_NOW"] = SUBMITTED
        case = services.submit(lead, officer, [fagai.id, ziran.id])
        app.config["CLOCK_NOW"] = "2024-09-29T15:00:00+08:00"
        services.submit_opinion(case, fagai.id, fagai_screener, {
            "verdict": "conditional", "materials": ["项目可行性研究报告"], **_ratings()})
        db.session.commit()
        app.config["CLOCK_NOW"] = None
        return case.id, lead.id, ziran_screener.id, officer.id


def _sweep(app, moment, extra_env=None):
    from crm.queue import get_queue

    get_queue("quick").enqueue("crm.screening.jobs.sweep")
    run_worker(app, queues="quick", env_extra={"CRM_CLOCK_NOW": moment, **(extra_env or {})})
    db.session.rollback()  # end the read transaction: see what the worker committed


def _notes(kind):
    return db.session.scalars(select(Notification).where(Notification.kind == kind)).all()


def test_reminder_once_then_closing_at_the_deadline(app, committed):
    case_id, lead_id, ziran_screener_id, officer_id = _county(app)
    _sweep(app, "2024-10-07T09:00:00+08:00")  # a holiday, before the reminder time: nothing
    assert _notes("screening_reminder") == []
    _sweep(app, REMINDER_TIME)
    reminders = _notes("screening_reminder")
    assert [n.user_id for n in reminders] == [ziran_screener_id]  # only the unit that has not answered
    assert "2024年10月8日" in reminders[0].message  # said as every deadline is (crm.formatting.deadline)
    _sweep(app, REMINDER_TIME)  # run twice: each reminder exactly once
    assert len(_notes("screening_reminder")) == 1
    case = db.session.get(ScreeningCase, case_id)
    assert case.status == "open"
    _sweep(app, AFTER_DEADLINE)
    case = db.session.get(ScreeningCase, case_id)
    assert case.status == "closed" and case.closed_by_deadline and case.result == "conditional"
    units = {cu.unit.name: cu for cu in case.units}
    assert units["县自然资源局"].missing and not units["县发改局"].missing
    assert case.notice_items == [{"item": "项目可行性研究报告", "units": ["县发改局"]}]
    from crm.leads.models import Lead
    assert db.session.get(Lead, lead_id).stage == "returned"
    assert [n.user_id for n in _notes("screening_closed")] == [officer_id]
    from crm.audit.models import AuditEntry
    changes = [e.changes for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "screening_cases", AuditEntry.entity_id == case_id))]
    assert {"status": ["open", "closed"]}.items() <= {k: list(v) for c in changes for k, v in c.items()}.items()
    _sweep(app, AFTER_DEADLINE)  # closing is not repeated
    assert len(_notes("screening_closed")) == 1


def test_crm_worker_schedules_the_sweep_itself(app, committed):
    """`crm worker` (with its scheduler, the default) enqueues the periodic sweep and runs it."""
    _case_id, _lead_id, ziran_screener_id, _officer = _county(app)
    run_worker(app, queues="quick", scheduler=True, env_extra={"CRM_CLOCK_NOW": REMINDER_TIME})
    db.session.rollback()
    assert [n.user_id for n in _notes("screening_reminder")] == [ziran_screener_id]


def test_periodic_job_is_enqueued_once_per_slot(app, committed):
    from datetime import datetime, timezone

    from crm.periodic import enqueue_due
    from crm.queue import get_queue

    moment = datetime(2024, 10, 8, 1, 0, 30, tzinfo=timezone.utc)
    first = enqueue_due(moment)
    second = enqueue_due(moment)  # a second worker ticking in the same minute
    assert first == ["screening-sweep-28805820", "score-pending-28805820", "score-nightly-20003",
                     "import-files-purge-20003", "lights-nightly-20003", "letters-nightly-20003",
                     "bulletins-monthly-20003", "outbox-purge-20003"]
    assert second == []
    assert get_queue("quick").count == 6 and get_queue("slow").count == 2
    assert enqueue_due(datetime(2024, 10, 8, 1, 1, 5, tzinfo=timezone.utc)) == [
        "screening-sweep-28805821", "score-pending-28805821"]
    get_queue("quick").empty()
    get_queue("slow").empty()


@pytest.fixture()
def smtp_server():
    """A real SMTP server on localhost (aiosmtpd) that keeps what it receives."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    import socket

    with socket.socket() as probe:  # a free port (aiosmtpd cannot take port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler.messages
    controller.stop()


def test_reminders_are_emailed_when_smtp_is_configured(app, committed, smtp_server):
    port, received = smtp_server
    _case_id, _lead_id, _screener, _officer = _county(app, with_email=True)
    env = {"CRM_SMTP_HOST": "127.0.0.1", "CRM_SMTP_PORT": str(port)}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    try:
        _sweep(app, REMINDER_TIME, env)  # the sweep queues the mail job after its commit...
        run_worker(app, queues="quick", env_extra={"CRM_CLOCK_NOW": REMINDER_TIME, **env})  # ...which sends
    finally:
        app.config.update(SMTP_HOST=None, SMTP_PORT=25)
    deadline = time.time() + 5
    while not any("ziran@jiangle.example" in to for to, _body in received) and time.time() < deadline:
        time.sleep(0.1)
    mails = [body for to, body in received if "ziran@jiangle.example" in to]
    assert len(mails) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.emailed_at.is_(None), Notification.kind == "screening_reminder")) == 0

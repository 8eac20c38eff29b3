"""The nightly letter job on a real `crm worker`, with the clock fixed; run twice, one letter."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from crm.extensions import db
from crm.letters.models import Letter
from crm.notifications.models import Notification
from crm.periodic import PERIODIC_JOBS
from crm.tracking.models import MilestonePlan
from tests import factories
from tests.conftest import run_worker

NIGHT = "2025-06-10T01:30:00+08:00"


def test_the_job_is_scheduled_nightly_after_the_lights():
    spec = {job.id: job for job in PERIODIC_JOBS}["letters-nightly"]
    assert (spec.func, spec.every, spec.offset) == ("crm.letters.jobs.write_due_letters", 86400, 17 * 3600 + 1800)


def _night(app):
    from crm.queue import get_queue

    get_queue("quick").enqueue("crm.letters.jobs.write_due_letters")
    run_worker(app, queues="quick", env_extra={"CRM_CLOCK_NOW": NIGHT})
    db.session.rollback()  # see what the worker committed


def test_the_worker_writes_each_letter_once(app, committed):
    with app.test_request_context():
        unit = factories.unit("万全乡")
        team_lead = factories.user(roles=["team_lead"], unit_=unit)
        officer = factories.user(unit_=unit)
        lead = factories.lead(owner=officer, project_name="年产10万吨新材料项目")
        lead.stage = "signed"
        db.session.add(MilestonePlan(lead_id=lead.id, milestone="start", planned_on=date(2025, 6, 30)))
        db.session.commit()
        lead_id, team_lead_id = lead.id, team_lead.id
    _night(app)
    _night(app)
    letters = db.session.scalars(select(Letter).where(Letter.lead_id == lead_id)).all()
    assert [(l.kind, l.milestone, l.issued_on, l.reply_due_on) for l in letters] == [
        ("reminder", "start", date(2025, 6, 10), date(2025, 6, 17))]
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == team_lead_id, Notification.kind == "letter_reminder")) == 1

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


def test_two_runs_at_once_write_each_letter_once(app, committed, clock_at):
    """Both runs may find the same letters due; the unique constraint lets one write them (SQLite
    as the app runs it, BEGIN IMMEDIATE; PostgreSQL with its row and index locks)."""
    import threading

    from crm.database import _make_engine
    from crm.letters.jobs import write_due_letters
    from crm.papers.models import DocumentNumber

    with app.test_request_context():
        unit = factories.unit("万全乡")
        factories.user(roles=["team_lead"], unit_=unit)
        lead_ids = []
        for n in range(30):
            lead = factories.lead(owner=factories.user(unit_=unit), project_name=f"并发测试项目{n}")
            lead.stage = "signed"
            db.session.add(MilestonePlan(lead_id=lead.id, milestone="start", planned_on=date(2025, 5, 20)))
            db.session.add(MilestonePlan(lead_id=lead.id, milestone="produce", planned_on=date(2025, 6, 30)))
            lead_ids.append(lead.id)
        db.session.commit()
    clock_at(NIGHT)
    url = app.config["DATABASE_URL"]
    engine = _make_engine(url, sqlite_immediate=True) if url.startswith("sqlite") else db.engine
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            with app.app_context():
                db.session.remove()
                db.session(bind=engine)
                barrier.wait(timeout=10)
                results.append(write_due_letters()["written"])
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(results) == 60
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 60
    numbers = db.session.scalars(select(DocumentNumber.number).where(DocumentNumber.kind == "letter")).all()
    assert sorted(numbers) == list(range(1, 61))

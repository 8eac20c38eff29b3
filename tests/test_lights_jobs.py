"""The nightly light run on a real worker: lights computed, idempotent on a second run; the
periodic job is due at 01:00 Beijing (17:00 UTC)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

from sqlalchemy import func, select

from crm.extensions import db
from crm.lights.models import LightChange, ProjectLight
from crm.notifications.models import Notification
from crm.tracking.models import MilestonePlan
from tests import factories
from tests.conftest import run_worker

NIGHT = "2026-06-15T01:00:00+08:00"


def _county(app):
    with app.app_context():
        unit = factories.unit()
        officer = factories.user(unit_=unit)
        factories.user(roles=["team_lead"], unit_=unit)
        late = factories.lead(owner=officer, created_on=date(2026, 6, 1))
        fine = factories.lead(owner=officer, created_on=date(2026, 6, 1))
        for lead in (late, fine):
            lead.stage = "signed"
        db.session.flush()
        db.session.add(MilestonePlan(lead_id=late.id, milestone="start", planned_on=date(2026, 6, 1)))
        db.session.commit()
        return late.id, fine.id


def _nightly(app):
    from crm.queue import get_queue

    with app.app_context():
        get_queue("slow").enqueue("crm.lights.jobs.nightly", job_id=f"lights-test-{uuid.uuid4().hex}")
    run_worker(app, queues="slow", env_extra={"CRM_CLOCK_NOW": NIGHT})


def _state(late_id, fine_id):
    db.session.rollback()
    db.session.expire_all()
    lights = dict(db.session.execute(select(ProjectLight.lead_id, ProjectLight.colour)).all())
    history = db.session.scalar(select(func.count()).select_from(LightChange))
    notes = db.session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.kind == "light_yellow"))
    return lights, history, notes


def test_the_nightly_job_lights_every_project_once(app, committed):
    late_id, fine_id = _county(app)
    _nightly(app)
    assert _state(late_id, fine_id) == ({late_id: "yellow", fine_id: "green"}, 2, 2)
    row = db.session.get(ProjectLight, late_id)
    assert row.since == date(2026, 6, 15) and row.reasons[0]["code"] == "milestone_overdue"
    _nightly(app)  # RQ may deliver twice: nothing more is written or told
    assert _state(late_id, fine_id) == ({late_id: "yellow", fine_id: "green"}, 2, 2)


def test_the_nightly_job_is_due_at_one_in_the_morning_beijing(app, committed):
    from crm.periodic import PERIODIC_JOBS, enqueue_due
    from crm.queue import get_queue

    spec = next(j for j in PERIODIC_JOBS if j.id == "lights-nightly")
    assert (spec.func, spec.every, spec.offset, spec.queue) == ("crm.lights.jobs.nightly", 86400, 17 * 3600, "slow")
    before = datetime(2026, 6, 14, 16, 59, 59, tzinfo=timezone.utc)
    at = datetime(2026, 6, 14, 17, 0, 1, tzinfo=timezone.utc)  # 2026-06-15 01:00:01 Beijing
    first = [j for j in enqueue_due(before, jobs=[spec])]
    assert enqueue_due(before, jobs=[spec]) == []  # the same slot once
    second = enqueue_due(at, jobs=[spec])
    assert len(first) == 1 and len(second) == 1 and first != second
    assert second[0].startswith("lights-nightly-")
    get_queue("slow").empty()

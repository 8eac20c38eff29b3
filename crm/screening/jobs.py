"""The deadline/reminder sweep, run every minute by `crm worker` (crm.periodic).

Idempotent and safe to run twice or in two workers at once: reminders are claimed with a
conditional UPDATE (`reminded_at IS NULL`) before anyone is notified, and a case is closed only
if its version is still the one read (a concurrent opinion or close makes this run skip it).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from crm import clock
from crm.audit.listener import set_actor
from crm.auth.roles import Role
from crm.extensions import db
from crm.leads.models import Lead
from crm.notifications.services import notify, unit_users_with_role
from crm.screening import services
from crm.screening.models import CaseStatus, CaseUnit, ScreeningCase

CHUNK = 500


def sweep(now: datetime | None = None) -> dict:
    """Remind units with one working day left; close the cases whose deadline has passed."""
    set_actor(None)
    now = now or clock.now()
    fixed = services.recompute_unknown_deadlines()
    db.session.commit()
    reminded = send_reminders(now)
    closed = close_overdue(now)
    return {"deadlines_fixed": fixed, "reminded": reminded, "closed": closed}


def send_reminders(now: datetime) -> int:
    """One reminder per unit that has not answered, once the reminder time has come."""
    due_cases = (select(ScreeningCase.id).where(ScreeningCase.status == CaseStatus.OPEN.value,
                                                ScreeningCase.remind_at <= now))
    pending = db.session.execute(
        select(CaseUnit.id).where(CaseUnit.case_id.in_(due_cases), CaseUnit.answered_at.is_(None),
                                  CaseUnit.reminded_at.is_(None))).scalars().all()
    total = 0
    for start in range(0, len(pending), CHUNK):
        ids = pending[start:start + CHUNK]
        # The claim: only rows still unreminded are returned, so a second sweep finds none.
        claimed = db.session.execute(
            update(CaseUnit).where(CaseUnit.id.in_(ids), CaseUnit.reminded_at.is_(None))
            .values(reminded_at=now).returning(CaseUnit.case_id, CaseUnit.unit_id)
            .execution_options(synchronize_session=False)).all()
        if not claimed:
            continue
        case_ids = {case_id for case_id, _ in claimed}
        info = {cid: (company, due_on) for cid, company, due_on in db.session.execute(
            select(ScreeningCase.id, Lead.company_name, ScreeningCase.due_on)
            .join(Lead, Lead.id == ScreeningCase.lead_id).where(ScreeningCase.id.in_(case_ids)))}
        screeners = unit_users_with_role({unit_id for _, unit_id in claimed}, Role.SCREENER)
        by_case: dict[int, list[int]] = {}
        for case_id, unit_id in claimed:
            by_case.setdefault(case_id, []).extend(screeners.get(unit_id, []))
        for case_id, users in by_case.items():
            company, due_on = info[case_id]
            notify(users, "screening_reminder", {"company": company, "due": due_on.isoformat()},
                   services.case_path(case_id))
        db.session.commit()
        total += len(claimed)
    return total


def close_overdue(now: datetime) -> int:
    """Close every open case whose deadline has passed, with whatever opinions are in."""
    ids = db.session.scalars(select(ScreeningCase.id).where(
        ScreeningCase.status == CaseStatus.OPEN.value, ScreeningCase.due_at <= now)
        .order_by(ScreeningCase.due_at, ScreeningCase.id)).all()
    closed = 0
    for start in range(0, len(ids), CHUNK):
        cases = db.session.scalars(
            select(ScreeningCase).where(ScreeningCase.id.in_(ids[start:start + CHUNK]))
            .options(selectinload(ScreeningCase.units).joinedload(CaseUnit.unit),
                     selectinload(ScreeningCase.opinions), selectinload(ScreeningCase.lead))).all()
        for case in cases:
            if not case.is_open:
                continue
            try:
                with db.session.begin_nested():
                    services.close_case(case, by_deadline=True)
                closed += 1
            except StaleDataError:  # an opinion or another sweep got there first: next run
                db.session.expire(case)
        db.session.commit()
    return closed

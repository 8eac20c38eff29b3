"""The deadline/reminder sweep, run every minute by `crm worker` (crm.periodic).

Idempotent and safe to run twice or in two workers at once: reminders are claimed with a
conditional UPDATE (`reminded_at IS NULL`) before anyone is notified, and cases are claimed
with a conditional UPDATE (`status = 'open'`) before they are read and closed.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from crm import clock
from crm.audit.listener import set_actor
from crm.auth.roles import Role
from crm.extensions import db
from crm.leads.models import Lead
from crm.notifications.services import notify_many, unit_users_with_role
from crm.screening import services
from crm.screening.models import CaseStatus, CaseUnit, ScreeningCase

CHUNK = 500
CLOSING = "closing"  # a case claimed by a sweep inside its transaction; never committed as such


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
    # Not for cases already past their deadline: those close in this same sweep.
    due_cases = (select(ScreeningCase.id).where(ScreeningCase.status == CaseStatus.OPEN.value,
                                                ScreeningCase.remind_at <= now, ScreeningCase.due_at > now))
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
        notify_many([(users, "screening_reminder",
                      {"company": info[case_id][0], "due": info[case_id][1].isoformat()},
                      services.case_path(case_id)) for case_id, users in by_case.items()])
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
        # The claim: a concurrent sweep, or an opinion being saved (it updates the case row),
        # makes this wait or skip; only cases still open are taken, and read after the claim.
        claimed = db.session.execute(
            update(ScreeningCase).where(ScreeningCase.id.in_(ids[start:start + CHUNK]),
                                        ScreeningCase.status == CaseStatus.OPEN.value)
            .values(status=CLOSING, version=ScreeningCase.version + 1)
            .returning(ScreeningCase.id).execution_options(synchronize_session=False)).scalars().all()
        if not claimed:
            continue
        cases = db.session.scalars(
            select(ScreeningCase).where(ScreeningCase.id.in_(claimed))
            .options(selectinload(ScreeningCase.units).joinedload(CaseUnit.unit),
                     selectinload(ScreeningCase.opinions), selectinload(ScreeningCase.lead))
            .execution_options(populate_existing=True)).all()
        notes: list = []
        for case in cases:
            set_committed_value(case, "status", CaseStatus.OPEN.value)  # the audit log shows open → closed
            services.close_case(case, by_deadline=True, notes=notes)
        db.session.flush()
        notify_many(notes)
        db.session.commit()
        closed += len(cases)
    return closed

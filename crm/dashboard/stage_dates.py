"""The stage_reached projection: rebuilt per lead from the sources of truth.

Sources, best first: a recorded milestone actual (the day it really happened), the lead's own
签约/开工 date, the first move into the stage in the history (its county-local date). A main-line
stage skipped on the way to a later one is filled in, marked implied, on the later stage's day.
Writers never edit the projection: they mark leads (receivers below, `mark`) and the marked leads
are rebuilt before the commit, in one batch; bulk writers call `rebuild` themselves.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from itertools import chain

from sqlalchemy import Integer, and_, any_, bindparam, case, delete, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from crm import clock
from crm.bulk import bulk_insert
from crm.database import listen_once
from crm.extensions import db
from crm.leads.models import Lead, LeadStageChange, StageReached
from crm.leads.pipeline import MAIN_LINE, Stage
from crm.tracking.models import MILESTONE_STAGE, MilestoneActual

_PENDING = "stage_reached_pending"
CHUNK = 1000
# Main-line stages after `lead` (a lead's creation day is leads.created_on itself).
COUNTED_MAIN_LINE = [s.value for s in MAIN_LINE[1:]]
# Each main-line stage's next one (stage_reached.next_on is the day the lead reached it).
NEXT_STAGE = {s.value: MAIN_LINE[i + 1].value for i, s in enumerate(MAIN_LINE[:-1])}
_MILESTONE_STAGE = {m.value: s.value for m, s in MILESTONE_STAGE.items()}


def _local_date(moment: datetime, zone=None) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone or clock.local_zone()).date()


def compute(changes, actuals, lead_dates, zone=None) -> dict[str, tuple[date, bool]]:
    """One lead's {stage: (day, implied)} from its (to_stage, changed_at) changes, its
    (milestone, actual_on) actuals and its {'signed': signed_on, 'started': started_on}.
    zone: the county's (clock.local_zone(), looked up once by a caller computing many)."""
    days: dict[str, date] = {}
    for to_stage, changed_at in changes:
        day = _local_date(changed_at, zone)
        if to_stage not in days or day < days[to_stage]:
            days[to_stage] = day
    for stage, day in lead_dates.items():
        if day is not None:
            days[stage] = day
    for milestone, day in actuals:
        stage = _MILESTONE_STAGE.get(milestone)
        if stage is not None:
            days[stage] = day
    reached = {stage: (day, False) for stage, day in days.items() if stage != Stage.LEAD.value}
    later: date | None = None
    for stage in reversed(COUNTED_MAIN_LINE):
        if stage in reached:
            later = reached[stage][0] if later is None else min(later, reached[stage][0])
        elif later is not None:
            reached[stage] = (later, True)
    return reached


def reached_rows(lead_id: int, reached: dict[str, tuple[date, bool]]) -> list[dict]:
    """The lead's stage_reached rows, each carrying the day of the next main-line stage."""
    rows = []
    for stage, (day, implied) in reached.items():
        following = reached.get(NEXT_STAGE.get(stage))
        rows.append({"lead_id": lead_id, "stage": stage, "reached_on": day, "implied": implied,
                     "next_on": following[0] if following else None,
                     "next_implied": following[1] if following else None})
    return rows


def rebuild(lead_ids=None) -> int:
    """Recompute the rows of these leads (every lead when None); returns the number of rows."""
    if lead_ids is None:
        lead_ids = list(db.session.scalars(select(Lead.id).order_by(Lead.id)))
    lead_ids = sorted(set(lead_ids))
    written = 0
    for start in range(0, len(lead_ids), CHUNK):
        written += _rebuild_chunk(lead_ids[start:start + CHUNK])
    return written


def _among(column, ids: list[int]):
    """column IN ids; on PostgreSQL as = ANY(one array): a thousand bound values cost more to
    render and parse than the query costs to run (an import rebuilds 100,000 leads)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=postgresql.ARRAY(Integer)))
    return column.in_(ids)


def _rebuild_chunk(ids: list[int]) -> int:
    changes: dict[int, list] = {}
    for lead_id, to_stage, changed_at in db.session.execute(
            select(LeadStageChange.lead_id, LeadStageChange.to_stage, LeadStageChange.changed_at)
            .where(_among(LeadStageChange.lead_id, ids))):
        changes.setdefault(lead_id, []).append((to_stage, changed_at))
    actuals: dict[int, list] = {}
    for lead_id, milestone, actual_on in db.session.execute(
            select(MilestoneActual.lead_id, MilestoneActual.milestone, MilestoneActual.actual_on)
            .where(_among(MilestoneActual.lead_id, ids))):
        actuals.setdefault(lead_id, []).append((milestone, actual_on))
    rows = []
    zone = clock.local_zone()
    for lead_id, signed_on, started_on in db.session.execute(
            select(Lead.id, Lead.signed_on, Lead.started_on).where(_among(Lead.id, ids))):
        reached = compute(changes.get(lead_id, ()), actuals.get(lead_id, ()),
                          {Stage.SIGNED.value: signed_on, Stage.STARTED.value: started_on}, zone)
        rows.extend(reached_rows(lead_id, reached))
    db.session.execute(delete(StageReached).where(_among(StageReached.lead_id, ids)))
    bulk_insert(db.session, StageReached.__table__, rows)  # COPY on PostgreSQL
    return len(rows)


# --- receivers: mark, rebuild before the commit ---------------------------------------------

def mark(lead_ids) -> None:
    db.session.info.setdefault(_PENDING, set()).update(i for i in lead_ids if i is not None)


def on_stage_changed(sender=None, lead: Lead | None = None, **_kw) -> None:
    if lead is not None:
        mark([lead.id])


def on_project_changed(sender=None, lead_id: int | None = None, **_kw) -> None:
    mark([lead_id])


def on_leads_bulk_changed(sender=None, lead_ids=(), **_kw) -> None:
    mark(lead_ids)


def on_leads_bulk_created(sender=None, leads=(), **_kw) -> None:
    """New leads with their whole stage history and no milestone actual: their rows computed by
    the same rule as rebuild's from what the writer sends (the database holds nothing else of
    them) and written at once. A lead changed again before the commit is marked as any."""
    zone = clock.local_zone()
    rows, ids = [], []
    for lead_id, signed_on, started_on, changes in leads:
        ids.append(lead_id)
        reached = compute(changes, (), {Stage.SIGNED.value: signed_on, Stage.STARTED.value: started_on}, zone)
        rows.extend(reached_rows(lead_id, reached))
    if not ids:
        return
    # As rebuild does: rows left by a deleted lead whose id SQLite gives out again go first.
    # PostgreSQL never gives an id out twice (a sequence) and its foreign key cascades: no such
    # rows, and no statement that would wait for an import's queued COPYs (streamed_copies).
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.execute(delete(StageReached).where(_among(StageReached.lead_id, ids)))
    bulk_insert(db.session, StageReached.__table__, rows)


def _rebuild_pending(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if ids:
        session.flush()
        rebuild(ids)


def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


# --- next_on: kept for rows written one by one ------------------------------------------------

_LINK = "stage_reached_link_next"


def link_next(lead_ids, session: Session | None = None) -> None:
    """Set next_on/next_implied of these leads' rows from their other rows (rebuild computes them
    itself; this is for rows the ORM writes one at a time, e.g. hand-made test cases)."""
    table = StageReached.__table__
    following = table.alias("following")
    ref = and_(following.c.lead_id == table.c.lead_id,
               following.c.stage == case(NEXT_STAGE, value=table.c.stage))
    (session or db.session).execute(
        update(table).where(table.c.lead_id.in_(sorted(lead_ids)))
        .values(next_on=select(following.c.reached_on).where(ref).scalar_subquery(),
                next_implied=select(following.c.implied).where(ref).scalar_subquery()))


def _note_rows(session: Session, _context) -> None:
    ids = {obj.lead_id for obj in chain(session.new, session.dirty, session.deleted)
           if isinstance(obj, StageReached)}
    if ids:
        session.info.setdefault(_LINK, set()).update(ids)


def _link_rows(session: Session, _context) -> None:
    ids = session.info.pop(_LINK, None)
    if ids:
        link_next(ids, session)


def connect() -> None:
    """Called from crm.dashboard.init_app: the receivers and the session hooks."""
    from crm import signals

    signals.lead_stage_changed.connect(on_stage_changed)
    signals.project_changed.connect(on_project_changed)
    signals.leads_bulk_changed.connect(on_leads_bulk_changed)
    signals.leads_bulk_created.connect(on_leads_bulk_created)
    for identifier, fn in (("before_commit", _rebuild_pending), ("after_soft_rollback", _forget),
                           ("after_flush", _note_rows), ("after_flush_postexec", _link_rows)):
        listen_once(Session, identifier, fn)

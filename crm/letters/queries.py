"""Reading letters: the list with its filters, the counts per state, the panels' rows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import contains_eager

from crm.extensions import db
from crm.leads.models import Lead
from crm.letters import access
from crm.letters.models import Letter, LetterKind
from crm.papers.models import DocumentNumber, PaperKind
from crm.papers.services import number_text

STATES = ("to_acknowledge", "to_reply", "overdue", "answered")
# States the list also filters on (not counted apart): "unanswered" = to acknowledge or to reply.
FILTER_STATES = STATES + ("unanswered",)
PER_PAGE = 50


def state_clause(state: str, today: date):
    if state == "to_acknowledge":
        return Letter.acknowledged_at.is_(None)
    if state == "to_reply":
        return and_(Letter.acknowledged_at.is_not(None), Letter.replied_at.is_(None))
    if state == "overdue":
        return and_(Letter.replied_at.is_(None), Letter.reply_due_on < today)
    if state == "answered":
        return Letter.replied_at.is_not(None)
    if state == "unanswered":
        return Letter.replied_at.is_(None)
    raise ValueError(state)


def is_overdue(letter: Letter, today: date) -> bool:
    return letter.replied_at is None and today > letter.reply_due_on


def state_of(letter: Letter, today: date) -> str:
    """One state for display: answered, overdue (red), to reply, to acknowledge."""
    if letter.replied_at is not None:
        return "answered"
    if is_overdue(letter, today):
        return "overdue"
    return "to_reply" if letter.acknowledged_at is not None else "to_acknowledge"


@dataclass
class LetterPage:
    letters: list[Letter]
    numbers: dict[int, str]
    total: int
    counts: dict[str, int]
    next_cursor: str | None


def _base(user, kind: str | None = None, unit_id: int | None = None, lead_id: int | None = None,
          owner_unit_id: int | None = None, chain_id: int | None = None,
          issued_from: date | None = None, issued_to: date | None = None):
    query = select(Letter).join(Lead, Lead.id == Letter.lead_id)
    if issued_from is not None:  # the ranking's 收函数: letters issued in the period
        query = query.where(Letter.issued_on >= issued_from)
    if issued_to is not None:
        query = query.where(Letter.issued_on <= issued_to)
    if owner_unit_id is not None:  # the project's owner unit (the cockpit's unit filter)
        query = query.where(Lead.owner_unit_id == owner_unit_id)
    if chain_id is not None:
        query = query.where(Lead.chain_id == chain_id)
    where = access.visible_clause(user)
    if where is not None:
        query = query.where(where)
    if kind:
        query = query.where(Letter.kind == LetterKind(kind).value)
    if unit_id is not None:
        query = query.where(Letter.unit_id == unit_id)
    if lead_id is not None:
        query = query.where(Letter.lead_id == lead_id)
    return query


def counts(query, today: date) -> dict[str, int]:
    """How many letters of `query` are in each state (overdue also counts as to acknowledge/reply)."""
    sub = query.with_only_columns(Letter.acknowledged_at, Letter.replied_at, Letter.reply_due_on).subquery()
    row = db.session.execute(select(
        func.count(),
        func.sum(case((sub.c.acknowledged_at.is_(None), 1), else_=0)),
        func.sum(case((and_(sub.c.acknowledged_at.is_not(None), sub.c.replied_at.is_(None)), 1), else_=0)),
        func.sum(case((and_(sub.c.replied_at.is_(None), sub.c.reply_due_on < today), 1), else_=0)),
        func.sum(case((sub.c.replied_at.is_not(None), 1), else_=0)))).one()
    total, *rest = row
    return {"all": total or 0, **{state: value or 0 for state, value in zip(STATES, rest)}}


def numbers_for(letter_ids) -> dict[int, str]:
    """letter id → its document number text (one query)."""
    ids = list(letter_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(DocumentNumber).where(DocumentNumber.kind == PaperKind.LETTER.value,
                                                           DocumentNumber.subject_id.in_(ids)))
    return {row.subject_id: number_text(row, PaperKind.LETTER) for row in rows}


class BadCursor(ValueError):
    pass


def _overdue_rank(today: date):
    return case((and_(Letter.replied_at.is_(None), Letter.reply_due_on < today), 0), else_=1)


def _cursor(letter: Letter, today: date) -> str:
    return f"{0 if is_overdue(letter, today) else 1}.{letter.issued_on.isoformat()}.{letter.id}"


def _after(cursor: str, today: date):
    """The rows after `cursor` in the list's order (overdue first, then the newest): keyset, no OFFSET."""
    try:
        rank, day, letter_id = cursor.split(".")
        rank, day, letter_id = int(rank), date.fromisoformat(day), int(letter_id)
    except ValueError as exc:
        raise BadCursor(cursor) from exc
    if rank not in (0, 1) or not 0 < letter_id < 2**31:
        raise BadCursor(cursor)
    order = _overdue_rank(today)
    return or_(order > rank, and_(order == rank, or_(Letter.issued_on < day,
                                                     and_(Letter.issued_on == day, Letter.id < letter_id))))


def letter_page(user, today: date, *, kind: str | None = None, state: str | None = None,
                unit_id: int | None = None, cursor: str | None = None, per_page: int = PER_PAGE,
                owner_unit_id: int | None = None, chain_id: int | None = None,
                issued_from: date | None = None, issued_to: date | None = None) -> LetterPage:
    """The letters the user may read, overdue first, then the newest; `cursor` continues a list
    (BadCursor when it cannot be read). `owner_unit_id`/`chain_id`: about the projects of that
    owner unit / chain (the cockpit's links)."""
    query = _base(user, kind, unit_id, owner_unit_id=owner_unit_id, chain_id=chain_id,
                  issued_from=issued_from, issued_to=issued_to)
    all_counts = counts(query, today)
    if state:
        query = query.where(state_clause(state, today))
    total = db.session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    if cursor:
        query = query.where(_after(cursor, today))
    rows = list(db.session.scalars(
        query.options(contains_eager(Letter.lead))
        .order_by(_overdue_rank(today), Letter.issued_on.desc(), Letter.id.desc()).limit(per_page + 1)).unique())
    letters = rows[:per_page]
    next_cursor = _cursor(letters[-1], today) if len(rows) > per_page else None
    return LetterPage(letters, numbers_for(l.id for l in letters), total, all_counts, next_cursor)


def project_letters(lead_id: int) -> list[Letter]:
    return list(db.session.scalars(select(Letter).where(Letter.lead_id == lead_id)
                                   .order_by(Letter.issued_on.desc(), Letter.id.desc())))


def waiting_for_unit(unit_id: int, today: date, limit: int = 50) -> tuple[list[Letter], dict[str, int]]:
    """A unit's letters not yet answered, overdue first (oldest due first), and the counts."""
    query = (select(Letter).join(Lead, Lead.id == Letter.lead_id)
             .where(Letter.unit_id == unit_id, Letter.replied_at.is_(None)))
    overdue_first = case((Letter.reply_due_on < today, 0), else_=1)
    letters = list(db.session.scalars(query.options(contains_eager(Letter.lead))
                                      .order_by(overdue_first, Letter.reply_due_on, Letter.id).limit(limit)).unique())
    return letters, counts(query, today)

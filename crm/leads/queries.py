"""The lead list: visibility, filters, sorting and keyset pagination (fast at 100,000 leads)."""
from __future__ import annotations

import base64
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import selectinload

from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads.models import Lead, StageReached
from crm.leads.pipeline import Stage
from crm.request_guard import DB_INT_MAX

# sort name -> (sort key, descending, value of that key for a lead). Planned investment sorts
# unknown amounts last through COALESCE(…, -1), which its expression index covers on every backend.
SORTS = {
    "updated": (Lead.updated_at, True, lambda lead: lead.updated_at),
    "created": (Lead.created_on, True, lambda lead: lead.created_on),
    "investment": (func.coalesce(Lead.planned_investment_wan, -1), True,
                   lambda lead: lead.planned_investment_wan if lead.planned_investment_wan is not None else -1),
    "company": (Lead.company_name, False, lambda lead: lead.company_name),
    "score": (func.coalesce(Lead.p_sign, -1), True, lambda lead: lead.p_sign if lead.p_sign is not None else -1),
}
GRADES = ("A", "B", "C", "D")
DEFAULT_SORT = "updated"


def get_lead_or_404(lead_id: int, write: bool = False) -> Lead:
    """The lead, if the acting user may read it (or change it, with write=True); else 404/403."""
    from flask import abort

    from crm.auth.permissions import require_lead_access

    lead = db.session.get(Lead, lead_id)
    if lead is None:
        abort(404)
    require_lead_access(lead, write=write)
    return lead


def unit_officers(unit_id: int):
    """The active users of a unit, by name: who may own its leads, as (id, display_name) rows."""
    from crm.auth.models import User

    display_name = func.coalesce(func.nullif(User.full_name, ""), User.username)  # as User.display_name
    return db.session.execute(select(User.id, display_name.label("display_name"))
                              .where(User.unit_id == unit_id, User.active.is_(True)).order_by(User.full_name)).all()


def visible_leads_filter(user):
    """The SQL condition for the leads this user may read (None: all)."""
    if user.can(Permission.LEADS_READ_ALL):
        return None
    if user.can(Permission.LEADS_READ_UNIT):
        return Lead.owner_unit_id == user.unit_id
    return Lead.id.is_(None)  # nothing (screeners see leads through their cases)


def visibility_scope(user) -> str:
    """What visible_leads_filter(user) lets through, as a key: "all", "unit:<id>" or "none"."""
    if user.can(Permission.LEADS_READ_ALL):
        return "all"
    if user.can(Permission.LEADS_READ_UNIT):
        return f"unit:{user.unit_id}"
    return "none"


@dataclass
class LeadFilters:
    q: str = ""
    stage: str = ""
    chain_id: int | None = None
    source_kind: str = ""
    unit_id: int | None = None
    owner_id: int | None = None
    grade: str = ""
    source_id: int | None = None
    # The records behind a cockpit figure: leads that reached `reached` between the two dates
    # (`lead`: created), and of those the ones that went on to reach `then` (by `then_by`).
    reached: str = ""
    reached_from: date | None = None
    reached_to: date | None = None
    then: str = ""
    then_by: date | None = None
    sort: str = DEFAULT_SORT
    cursor: str = ""
    after: tuple | None = None  # the decoded cursor: (sort value, lead id)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> "LeadFilters":
        f = cls(q=(args.get("q") or "").strip()[:100], stage=args.get("stage") or "",
                chain_id=args.get("chain_id", type=int), source_kind=args.get("source_kind") or "",
                unit_id=args.get("unit_id", type=int), owner_id=args.get("owner_id", type=int),
                grade=args.get("grade") or "", sort=args.get("sort") or DEFAULT_SORT, cursor=args.get("cursor") or "")
        f.source_id = args.get("source_id", type=int)
        stages = {s.value for s in Stage}
        for name in ("reached", "then"):
            value = args.get(name) or ""
            if value and value not in stages:
                f.errors.append(name)
            else:
                setattr(f, name, value)
        for name in ("reached_from", "reached_to", "then_by"):
            value = (args.get(name) or "").strip()
            if value:
                try:
                    setattr(f, name, date.fromisoformat(value))
                except ValueError:
                    f.errors.append(name)
        if f.stage and f.stage not in {s.value for s in Stage}:
            f.errors.append("stage")
            f.stage = ""
        if f.grade and f.grade not in GRADES:
            f.errors.append("grade")
            f.grade = ""
        if f.sort not in SORTS:
            f.errors.append("sort")
            f.sort = DEFAULT_SORT
        if f.cursor:
            f.after = _decode(f.cursor, f.sort)
            if f.after is None:
                f.errors.append("cursor")
                f.cursor = ""
        return f

    def conditions(self, user) -> list:
        conds = []
        visible = visible_leads_filter(user)
        if visible is not None:
            conds.append(visible)
        if self.q:
            like = f"%{self.q}%"
            matches = [Lead.company_name.ilike(like), Lead.project_name.ilike(like), Lead.uscc == self.q.upper()]
            number = lead_number(self.q)
            if number is not None:
                matches.append(Lead.id == number)
            conds.append(or_(*matches))
        if self.stage:
            conds.append(Lead.stage == self.stage)
        if self.chain_id:
            conds.append(Lead.chain_id == self.chain_id)
        if self.source_kind:
            conds.append(Lead.source_kind == self.source_kind)
        if self.unit_id:
            conds.append(Lead.owner_unit_id == self.unit_id)
        if self.owner_id:
            conds.append(Lead.owner_id == self.owner_id)
        if self.grade:
            conds.append(Lead.score_grade == self.grade)
        if self.source_id:
            conds.append(Lead.source_id == self.source_id)
        if self.reached:
            conds.append(_reached_condition(self.reached, self.reached_from, self.reached_to))
        if self.then:
            conds.append(_reached_condition(self.then, None, self.then_by))
        return conds

    def args(self, **overrides) -> dict:
        out = {"q": self.q, "stage": self.stage, "chain_id": self.chain_id,
               "source_kind": self.source_kind, "unit_id": self.unit_id,
               "owner_id": self.owner_id, "grade": self.grade, "sort": self.sort,
               "source_id": self.source_id, "reached": self.reached, "then": self.then,
               "reached_from": self.reached_from.isoformat() if self.reached_from else None,
               "reached_to": self.reached_to.isoformat() if self.reached_to else None,
               "then_by": self.then_by.isoformat() if self.then_by else None}
        out.update(overrides)
        return {k: v for k, v in out.items() if v not in (None, "")}


_LEAD_NUMBER = re.compile(r"^(?:编号|线索编号|No\.?|#)?\s*(\d{1,10})$", re.IGNORECASE)


def lead_number(text: str) -> int | None:
    """The lead number a search names ("1234", "编号 1234", "#1234"), or None."""
    match = _LEAD_NUMBER.match(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        return None
    number = int(match.group(1))
    return number if 0 < number <= DB_INT_MAX else None


def _reached_condition(stage: str, start: date | None, end: date | None):
    """The lead reached `stage` between the dates (`lead`: was created between them)."""
    if stage == Stage.LEAD.value:
        conds = []
        if start:
            conds.append(Lead.created_on >= start)
        if end:
            conds.append(Lead.created_on <= end)
        return and_(true(), *conds)
    sub = select(StageReached.lead_id).where(StageReached.lead_id == Lead.id, StageReached.stage == stage)
    if start:
        sub = sub.where(StageReached.reached_on >= start)
    if end:
        sub = sub.where(StageReached.reached_on <= end)
    return sub.exists()


def _encode(value, lead_id: int) -> str:
    if isinstance(value, (datetime, date)):
        value = {"t": type(value).__name__, "v": value.isoformat()}
    elif isinstance(value, Decimal):
        value = {"t": "dec", "v": str(value)}
    raw = json.dumps([value, lead_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# What a cursor's value must be for each sort: anything else is a forged or stale cursor.
_CURSOR_TYPES = {"updated": (datetime,), "created": (date,), "investment": (Decimal, int),
                 "company": (str,), "score": (float, int)}


def _decode(cursor: str, sort: str):
    """(value, lead id) from a cursor made by _encode for this sort; None if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor[:1000] + "=" * (-len(cursor) % 4))
        value, lead_id = json.loads(raw)
        if isinstance(value, dict):
            kinds = {"datetime": datetime.fromisoformat, "date": date.fromisoformat, "dec": Decimal}
            value = kinds[value["t"]](value["v"])
    except (ValueError, KeyError, TypeError, ArithmeticError, RecursionError):
        return None
    if isinstance(value, bool) or not isinstance(value, _CURSOR_TYPES[sort]):
        return None
    if sort == "created" and isinstance(value, datetime):
        return None
    if isinstance(value, Decimal) and not (value.is_finite() and abs(value) < 10**15):
        return None
    if isinstance(value, int) and abs(value) > 2**63 - 1:
        return None
    if isinstance(value, float) and not -1 <= value <= 1:
        return None
    if type(lead_id) is not int or not 0 < lead_id <= DB_INT_MAX:
        return None
    return value, lead_id


def _after(key, desc: bool, value, lead_id: int):
    """Rows strictly after (value, id) in the order (key [desc], id [desc])."""
    if desc:
        return or_(key < value, and_(key == value, Lead.id < lead_id))
    return or_(key > value, and_(key == value, Lead.id > lead_id))


@dataclass
class LeadPage:
    leads: list[Lead]
    total: int
    next_cursor: str | None


def _ordered(stmt, filters: LeadFilters, per_page: int):
    """The filtered, keyset-paginated, sorted statement: one row more than a page tells whether
    there is a next page."""
    key, desc, _value_of = SORTS[filters.sort]
    if filters.after is not None:
        stmt = stmt.where(_after(key, desc, *filters.after))
    return (stmt.order_by(key.desc() if desc else key.asc(), Lead.id.desc() if desc else Lead.id.asc())
            .limit(per_page + 1))


def _cut(rows: list, filters: LeadFilters, per_page: int) -> tuple[list, str | None]:
    if len(rows) <= per_page:
        return rows, None
    rows = rows[:per_page]
    last = rows[-1]
    return rows, _encode(SORTS[filters.sort][2](last), last.id)


def lead_page(user, filters: LeadFilters, per_page: int = 50, with_total: bool = True) -> LeadPage:
    """A page of Lead objects with their unit, officer, chain, node and source (the API)."""
    conds = filters.conditions(user)
    stmt = _ordered(select(Lead).where(*conds), filters, per_page)
    # Related rows in a few small IN queries: one wide join costs PostgreSQL more planning time.
    stmt = stmt.options(selectinload(Lead.owner_unit), selectinload(Lead.owner), selectinload(Lead.chain),
                        selectinload(Lead.chain_node), selectinload(Lead.source))
    rows, next_cursor = _cut(db.session.scalars(stmt).all(), filters, per_page)
    total = count_leads(conds) if with_total else -1
    return LeadPage(rows, total, next_cursor)


def count_leads(conds) -> int:
    return db.session.scalar(select(func.count()).select_from(Lead).where(*conds))

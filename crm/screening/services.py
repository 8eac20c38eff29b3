"""Pre-screening rules: submit, answer, close, settings. They flush, never commit."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from crm import clock, signals
from crm.auth.models import Unit, UnitKind, User
from crm.auth.roles import Role
from crm.extensions import db
from crm.leads import services as lead_services
from crm.leads.models import Lead
from crm.leads.pipeline import Stage, stage_label
from crm.notifications.services import notify, notify_many, unit_users_with_role, users_with_role
from crm.validation import OutOfRange, check_text
from crm.screening.calendar import UnknownYearError, WorkCalendar, deadline
from crm.screening.indicators import Thresholds
from crm.screening.materials import COMMON_MATERIALS
from crm.screening.models import (RATING_DIMENSIONS, RATING_LABELS, CalendarDay, CalendarYear, CaseResult,
                                  CaseStatus, CaseUnit, ScreeningCase, ScreeningChainUnit, ScreeningDefaultUnit,
                                  ScreeningOpinion, ScreeningSettings, ScreeningThreshold, Verdict)

SUBMITTABLE = (Stage.NEGOTIATING.value, Stage.RETURNED.value)


class ScreeningError(ValueError):
    """A rule was broken; the message is for the user, `field` names the form field if any."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.field = field
        self.status = status


# --- settings -------------------------------------------------------------------------------

def get_settings() -> ScreeningSettings:
    settings = db.session.get(ScreeningSettings, 1)
    if settings is None:
        settings = ScreeningSettings(id=1, working_days=True, period_days=3)
        db.session.add(settings)
        db.session.flush()
    return settings


def load_calendar() -> WorkCalendar:
    overrides = dict(db.session.execute(select(CalendarDay.day, CalendarDay.is_workday)).all())
    years = db.session.scalars(select(CalendarYear.year)).all()
    return WorkCalendar(overrides, years)


def default_unit_ids() -> list[int]:
    return list(db.session.scalars(select(ScreeningDefaultUnit.unit_id)))


def chain_unit_ids(chain_id: int | None) -> list[int]:
    if chain_id is None:
        return []
    return list(db.session.scalars(select(ScreeningChainUnit.unit_id)
                                   .where(ScreeningChainUnit.chain_id == chain_id)))


def member_units_for(lead: Lead) -> list[Unit]:
    """The units asked by default: the county's list plus the lead's chain's extra units."""
    ids = set(default_unit_ids()) | set(chain_unit_ids(lead.chain_id))
    if not ids:
        return []
    return list(db.session.scalars(select(Unit).where(Unit.id.in_(ids), Unit.active.is_(True))
                                   .order_by(Unit.name)))


def thresholds_for(chain_id: int | None, park_unit_id: int | None) -> Thresholds:
    """Per figure, the most specific row that sets it: chain+park, chain, park, county."""
    rows = db.session.scalars(select(ScreeningThreshold).where(
        ScreeningThreshold.chain_id.is_(None) | (ScreeningThreshold.chain_id == chain_id),
        ScreeningThreshold.park_unit_id.is_(None) | (ScreeningThreshold.park_unit_id == park_unit_id))).all()
    rows.sort(key=lambda r: (r.chain_id is not None, r.park_unit_id is not None), reverse=True)
    figures = {}
    used = []
    for field in ("min_total_investment_wan", "min_intensity_wan_per_mu", "min_tax_per_mu_wan",
                  "min_output_per_mu_wan", "min_tech_score"):
        for row in rows:
            value = getattr(row, field)
            if value is not None:
                figures[field] = value
                if row.id not in used:
                    used.append(row.id)
                break
        else:
            figures[field] = Decimal(5) if field == "min_tax_per_mu_wan" else None  # 长兴: < 5 is low
    sources = tuple(threshold_scope_label(r) for r in rows if r.id in used)
    return Thresholds(**figures, sources=sources)


def threshold_scope_label(row: ScreeningThreshold) -> str:
    parts = [row.chain.name if row.chain else None, row.park.name if row.park else None]
    parts = [p for p in parts if p]
    return " · ".join(parts) if parts else _("County default")


def save_threshold(row: ScreeningThreshold | None, data: dict) -> ScreeningThreshold:
    for key in ("min_total_investment_wan", "min_intensity_wan_per_mu", "min_tax_per_mu_wan",
                "min_output_per_mu_wan", "min_tech_score"):
        value = data.get(key)
        if value is not None and value < 0:
            raise ScreeningError(_("Thresholds cannot be negative."), key)
    chain_id, park_id = data.get("chain_id"), data.get("park_unit_id")
    if park_id is not None:
        park = db.session.get(Unit, park_id)
        if park is None or park.kind != UnitKind.PARK:
            raise ScreeningError(_("Choose a park."), "park_unit_id")
    clash = db.session.scalar(select(ScreeningThreshold.id).where(
        ScreeningThreshold.chain_id.is_(None) if chain_id is None else ScreeningThreshold.chain_id == chain_id,
        ScreeningThreshold.park_unit_id.is_(None) if park_id is None
        else ScreeningThreshold.park_unit_id == park_id))
    if clash is not None and (row is None or clash != row.id):
        raise ScreeningError(_("Thresholds for this chain and park exist already; edit them instead."),
                             "chain_id")
    if row is None:
        row = ScreeningThreshold()
        db.session.add(row)
    for key, value in data.items():
        setattr(row, key, value)
    db.session.flush()
    return row


def set_member_units(default_ids, chain_extras: dict[int, list[int]]) -> None:
    """Replace the default member units and each chain's extra units."""
    db.session.execute(delete(ScreeningDefaultUnit))
    db.session.add_all(ScreeningDefaultUnit(unit_id=uid) for uid in sorted(set(default_ids)))
    db.session.execute(delete(ScreeningChainUnit))
    for chain_id, ids in chain_extras.items():
        db.session.add_all(ScreeningChainUnit(chain_id=chain_id, unit_id=uid) for uid in sorted(set(ids)))
    db.session.flush()


def add_calendar_day(day, is_workday: bool, name: str) -> CalendarDay:
    row = db.session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.is_workday = is_workday
    row.name = name.strip()
    db.session.flush()
    return row


def confirm_year(year: int, actor: User) -> CalendarYear:
    """The admin says the whole schedule of `year` is entered; open cases get their deadlines."""
    if not 2000 <= year <= 2100:
        raise ScreeningError(_("Give a year between 2000 and 2100."), "year")
    row = db.session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, confirmed_by_id=actor.id, confirmed_at=clock.now())
        db.session.add(row)
        db.session.flush()
    recompute_unknown_deadlines()
    return row


def calendar_gaps(today=None) -> list[int]:
    """Years a deadline may fall in soon (this year and next) that no schedule covers."""
    today = today or clock.today()
    calendar = load_calendar()
    return [y for y in (today.year, today.year + 1) if not calendar.knows(y)]


# --- submitting -----------------------------------------------------------------------------

def case_path(case_id: int) -> str:
    """The case page's path; built by hand because jobs run without a request (tested)."""
    return f"/screening/cases/{case_id}"


def _case_link(case: ScreeningCase) -> str:
    return case_path(case.id)


def _apply_deadline(case: ScreeningCase, calendar: WorkCalendar) -> bool:
    try:
        result = deadline(case.submitted_at, case.period_days, case.working_days, calendar, clock.local_zone())
    except UnknownYearError as exc:
        case.due_on = case.due_at = case.remind_at = None
        case.due_problem_year = exc.year
        return False
    case.due_on, case.due_at, case.remind_at = result.due_on, result.due_at, result.remind_at
    case.due_problem_year = None
    return True


def submit(lead: Lead, actor: User, unit_ids, park_unit_id: int | None = None, note: str | None = None,
           expected_version=None, supplied=None) -> ScreeningCase:
    """Send a lead in negotiation (or returned with materials) to pre-screening.

    `supplied`: on a resubmission, the items of the previous round's notice the officer ticks as
    supplied (texts as listed); unticked items may stay open and are shown as not supplied."""
    if lead.stage == Stage.SCREENING:
        raise ScreeningError(_("This lead is already in pre-screening."), status=409)
    if lead.stage not in SUBMITTABLE:
        raise ScreeningError(_("Only a lead in negotiation (or returned for materials) can be sent to "
                               "pre-screening; this one is at “%(stage)s”.", stage=stage_label(lead.stage)))
    unit_ids = sorted(set(int(u) for u in unit_ids))
    if not unit_ids:
        raise ScreeningError(_("Choose at least one member unit."), "unit_ids")
    units = db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids), Unit.active.is_(True))).all()
    if len(units) != len(unit_ids):
        raise ScreeningError(_("One of the chosen units does not exist or is disabled."), "unit_ids")
    if any(u.kind != UnitKind.DEPARTMENT for u in units):  # towns, parks and groups are not member units
        raise ScreeningError(_("Only departments give pre-screening opinions; %(names)s cannot be asked.",
                               names="、".join(u.name for u in units if u.kind != UnitKind.DEPARTMENT)), "unit_ids")
    if park_unit_id is not None:
        park = db.session.get(Unit, park_unit_id)
        if park is None or park.kind != UnitKind.PARK:
            raise ScreeningError(_("Choose a park."), "park_unit_id")
    previous = db.session.scalar(select(ScreeningCase).where(ScreeningCase.lead_id == lead.id)
                                 .order_by(ScreeningCase.round.desc()).limit(1))
    supplied_items = _supplied_items(previous, supplied)
    settings = get_settings()
    case = ScreeningCase(lead=lead, round=(previous.round + 1) if previous else 1, previous_case=previous,
                         supplied_materials=supplied_items,
                         park_unit_id=park_unit_id, submitted_by_id=actor.id, submitted_at=clock.now(),
                         note=(note or "").strip() or None, working_days=settings.working_days,
                         period_days=settings.period_days, status=CaseStatus.OPEN.value)
    known = _apply_deadline(case, load_calendar())
    order = {u.id: i for i, u in enumerate(sorted(units, key=lambda u: u.name))}
    case.units = [CaseUnit(unit_id=u.id, position=order[u.id]) for u in units]
    lead_services.change_stage(lead, Stage.SCREENING, actor, expected_version=expected_version, workflow=True)
    db.session.add(case)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # another submission of the same lead won the race
        raise ScreeningError(_("This lead was sent to pre-screening by someone else a moment ago."),
                             status=409)
    params = {"company": lead.company_name, "due": case.due_on.isoformat() if case.due_on else "?"}
    screeners = unit_users_with_role(unit_ids, Role.SCREENER)
    notify([uid for ids in screeners.values() for uid in ids], "screening_asked", params, _case_link(case))
    if not known:
        notify(users_with_role(Role.ADMIN), "screening_no_calendar",
               {"year": case.due_problem_year, "company": lead.company_name}, _case_link(case))
    return case


def missing_items(case: ScreeningCase | None) -> list[dict]:
    """The materials a closed round's one-time notice asked for: [{"item", "units"}]."""
    if case is None or case.status != CaseStatus.CLOSED.value:
        return []
    return list(case.notice_items or [])


def _supplied_items(previous: ScreeningCase | None, supplied) -> list[str] | None:
    """The ticked items, in the notice's order; an item the notice does not list is refused."""
    asked = [entry["item"] for entry in missing_items(previous)]
    if not asked:
        if supplied:
            raise ScreeningError(_("The previous round asked for no materials."), "supplied")
        return None
    if supplied is None:
        supplied = []
    if isinstance(supplied, (str, bytes)) or not all(isinstance(i, str) for i in supplied):
        raise ScreeningError(_("Tick the supplied materials from the list."), "supplied")
    unknown = [i for i in supplied if i not in asked]
    if unknown:
        raise ScreeningError(_("“%(item)s” is not among the materials the previous round asked for.",
                               item=unknown[0]), "supplied")
    return [item for item in asked if item in set(supplied)]


def recompute_unknown_deadlines() -> int:
    """Cases waiting for a year's schedule get their deadline once it is entered."""
    cases = db.session.scalars(select(ScreeningCase).where(ScreeningCase.status == CaseStatus.OPEN.value,
                                                           ScreeningCase.due_problem_year.is_not(None))).all()
    if not cases:
        return 0
    calendar = load_calendar()
    fixed = sum(1 for case in cases if _apply_deadline(case, calendar))
    db.session.flush()
    return fixed


# --- opinions -------------------------------------------------------------------------------

def latest_version(case_id: int, unit_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.max(ScreeningOpinion.version), 0)).where(
        ScreeningOpinion.case_id == case_id, ScreeningOpinion.unit_id == unit_id))


def clean_rating(value, dimension: str) -> int | None:
    """A rating as given: None (not rated) or a whole number 1-5; anything else is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ScreeningError(_("%(dimension)s: choose a rating from 1 to 5, or leave it not rated.",
                               dimension=RATING_LABELS[dimension]), f"rating_{dimension}")
    return value


def clean_materials(items) -> list[str]:
    """One item per entry, as ticked or typed (whitespace trimmed and collapsed only), duplicates
    (by the comparable key) dropped, order kept. A typed item whose key is a common material's is
    stored as that common material's exact text, so it comes back ticked."""
    common = _common_by_key()
    seen, result = set(), []
    for item in items or []:
        text = re.sub(r"\s+", " ", str(item)).strip(" ;；,，。.、")
        key = _material_key(text)
        if text and key and key not in seen:
            seen.add(key)
            result.append(common.get(key, text[:200]))
    return result


def split_materials(items) -> tuple[list[str], list[str]]:
    """(common materials to tick, other items) for the opinion form; older rows stored with
    half-width brackets still find their tick by the comparable key."""
    common = _common_by_key()
    ticked, other = [], []
    for item in items or []:
        match = common.get(_material_key(item))
        if match is not None:
            ticked.append(match)
        else:
            other.append(item)
    return ticked, other


def _common_by_key() -> dict[str, str]:
    return {_material_key(m): m for m in COMMON_MATERIALS}


def _material_key(text: str) -> str:
    """The comparable form, for de-duplication and merging only (never stored)."""
    return re.sub(r"[\s;；,，。.、()（）《》<>\"'“”]", "", unicodedata.normalize("NFKC", text)).lower()


def submit_opinion(case: ScreeningCase, unit_id: int, actor: User, data: dict,
                   based_on_version: int | None = None) -> ScreeningOpinion:
    """Record (or amend) a member unit's opinion. Closes the case when every unit has answered."""
    case_unit = next((cu for cu in case.units if cu.unit_id == unit_id), None)
    if case_unit is None:
        raise ScreeningError(_("Your unit was not asked for an opinion on this case."), status=403)
    if actor.unit_id != unit_id or not actor.has_role(Role.SCREENER):
        raise ScreeningError(_("Only a screening liaison of the unit can give its opinion."), status=403)
    if not case.is_open:
        when = case.closed_at.astimezone(clock.local_zone()).strftime("%Y-%m-%d %H:%M") if case.closed_at else ""
        raise ScreeningError(_("This case closed at %(when)s; opinions are no longer accepted.", when=when),
                             status=409)
    verdict = data.get("verdict")
    if verdict not in {v.value for v in Verdict}:
        raise ScreeningError(_("Choose approve, approve with conditions or reject."), "verdict")
    ratings = {f"rating_{dim}": clean_rating(data.get(f"rating_{dim}"), dim) for dim in RATING_DIMENSIONS}
    materials = clean_materials(data.get("materials"))
    comment = (data.get("comment") or "").strip() or None
    conditions = (data.get("conditions") or "").strip() or None
    for field, value in (("comment", comment), ("conditions", conditions)):
        try:
            check_text(value, 4000)
        except OutOfRange as exc:
            raise ScreeningError(str(exc), field)
    if verdict == Verdict.REJECT and not comment:
        raise ScreeningError(_("Give the reasons for rejecting."), "comment")
    if verdict == Verdict.CONDITIONAL and not (conditions or materials):
        raise ScreeningError(_("State the conditions or the materials still needed."), "conditions")
    current = latest_version(case.id, unit_id)
    if based_on_version is not None and based_on_version != current:
        raise ScreeningError(_("Someone of your unit submitted an opinion on this case while you were "
                               "writing yours. Review it below, then amend if needed."), status=409)
    now = clock.now()
    opinion = ScreeningOpinion(
        case_id=case.id, unit_id=unit_id, version=current + 1, verdict=verdict, materials=materials,
        conditions=conditions, comment=comment, author_id=actor.id, submitted_at=now,
        late=bool(case.due_at and now > case.due_at), **ratings)
    try:
        with db.session.begin_nested():
            db.session.add(opinion)
            if case_unit.answered_at is None:
                case_unit.answered_at = now
                case_unit.late = opinion.late
            case.last_opinion_at = now  # bumps the case's version: a concurrent close must retry
            db.session.flush()
    except (IntegrityError, StaleDataError):
        status = db.session.scalar(select(ScreeningCase.status).where(ScreeningCase.id == case.id))
        if status != CaseStatus.OPEN:  # the deadline sweep closed it at this very moment
            raise ScreeningError(_("This case has just closed; opinions are no longer accepted."), status=409)
        raise ScreeningError(_("Another opinion for your unit was recorded at the same moment. "
                               "Reload the case to see it."), status=409)
    case.opinions.append(opinion)
    if all(cu.answered_at is not None for cu in case.units):
        close_case(case, by_deadline=False)
    return opinion


# --- closing --------------------------------------------------------------------------------

def consolidate(case: ScreeningCase) -> tuple[str, list[dict]]:
    """(overall result, merged one-time notice) from each unit's latest opinion."""
    latest = case.latest_opinions()
    verdicts = [o.verdict for o in latest.values()]
    if any(v == Verdict.REJECT for v in verdicts):
        result = CaseResult.FAIL
    elif verdicts and all(v == Verdict.APPROVE for v in verdicts):
        result = CaseResult.PASS
    else:
        result = CaseResult.CONDITIONAL  # conditions attached, or nobody answered
    merged: dict[str, dict] = {}
    unit_names = {cu.unit_id: cu.unit.name for cu in case.units}
    for cu in case.units:
        opinion = latest.get(cu.unit_id)
        for item in (opinion.materials if opinion else []):
            entry = merged.setdefault(_material_key(item), {"item": item, "units": []})
            if unit_names[cu.unit_id] not in entry["units"]:
                entry["units"].append(unit_names[cu.unit_id])
    return result.value, list(merged.values())


def close_case(case: ScreeningCase, by_deadline: bool, notes: list | None = None) -> None:
    """Consolidate, record late and missing units, move the lead, tell the submitter.

    `notes`: collect the notification here instead of inserting it now (the sweep batches them).
    """
    now = clock.now()
    result, notice = consolidate(case)
    case.status = CaseStatus.CLOSED.value
    case.closed_at = now
    case.closed_by_deadline = by_deadline
    case.result = result
    case.notice_items = notice
    for cu in case.units:
        cu.missing = cu.answered_at is None
    lead = case.lead
    target = Stage.RETURNED if (result == CaseResult.FAIL or notice) else Stage.AWAITING_DECISION
    reason = _("Pre-screening round %(round)s: %(result)s", round=case.round, result=case.result_label)
    if lead.stage == Stage.SCREENING:
        lead_services.change_stage(lead, target, None, reason=reason, workflow=True, flush=notes is None)
    recipients = {uid for uid in (case.submitted_by_id, lead.owner_id) if uid}
    note = (recipients, "screening_closed", {"company": lead.company_name, "result": result}, _case_link(case))
    if notes is None:
        db.session.flush()
        notify_many([note])
    else:
        notes.append(note)
    signals.screening_case_closed.send(case_id=case.id)  # e.g. the notice takes its number


def withdraw_open_case(sender=None, *, lead: Lead, old_stage: str, **_extra) -> None:
    """Receiver of crm.signals.lead_stage_changed (connected in create_app): a lead terminated
    during pre-screening withdraws its open case."""
    if old_stage != Stage.SCREENING or lead.stage != Stage.LOST:
        return
    for case in db.session.scalars(select(ScreeningCase).where(ScreeningCase.lead_id == lead.id,
                                                               ScreeningCase.status == CaseStatus.OPEN.value)):
        case.status = CaseStatus.WITHDRAWN.value
        case.closed_at = clock.now()
    db.session.flush()


def cases_for_lead(lead_id: int) -> list[ScreeningCase]:
    return list(db.session.scalars(select(ScreeningCase).where(ScreeningCase.lead_id == lead_id)
                                   .options(selectinload(ScreeningCase.units))
                                   .order_by(ScreeningCase.round.desc())))

"""Making a bulletin (督查通报): its figures are taken once, as they stand on the day it is made, and
stored with it (`Bulletin.content`), so the page and the Word file say the same thing years later.

One bulletin per period (the unique period_start/period_end): making it again returns the one that
exists, also when two makers race (the loser's savepoint is rolled back and it reads the winner's).
Rules: change state and flush, never commit (the request or the job commits).

The snapshot, JSON-ready, in the county's language (BABEL_DEFAULT_LOCALE: an official record):
    period      {kind, start, end}
    as_of       the day it was made (letters and problems are overdue as of that day)
    issuer      the bulletin issuer set then ("" when none was: the current one is shown)
    ranking     {columns: [metric keys], labels: {key: label}, rows: [{unit_id, unit, place,
                 previous_place, change, figures: {key: value}}]}  (crm.ranking, stored as it came)
    red_projects     [{lead_id, project, company, unit, since, reasons: [words], codes: [code]}]
    overdue_letters  [{letter_id, number, kind, project, unit, issued_on, reply_due_on, days_overdue}]
    overdue_problems [{problem_id, project, category, description, unit, due_on, days_overdue, status}]
    timeliness  [{unit_id, unit, cases, on_time, late, missing, pending, on_time_rate, median_hours}]
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from crm import clock
from crm.auth.models import Unit
from crm.bulletins.models import Bulletin
from crm.dashboard.period import Period
from crm.extensions import db
from crm.leads.models import Lead

CONTENT_VERSION = 1


class BulletinError(ValueError):
    """The bulletin asked for cannot be made; str() is the message for the user."""


# --- the period ------------------------------------------------------------------------------

def period_of(bulletin: Bulletin) -> Period:
    return Period(bulletin.period_kind, bulletin.period_start, bulletin.period_end)


def period_words(period: Period) -> str:
    """The period as the bulletin's sentences say it: 2026年11月, 2026年第四季度, 2026年度,
    2026年3月1日至2026年5月31日."""
    from crm.formatting import cn_date

    start, end = period.start, period.end
    if period.kind == "month":
        return pgettext("bulletin", "month %(month)s of %(year)s", year=start.year, month=start.month)
    if period.kind == "quarter":
        words = {1: pgettext("bulletin", "the first quarter"), 2: pgettext("bulletin", "the second quarter"),
                 3: pgettext("bulletin", "the third quarter"), 4: pgettext("bulletin", "the fourth quarter")}
        return pgettext("bulletin", "%(quarter)s of %(year)s", quarter=words[period.quarter_number], year=start.year)
    if period.kind == "year":
        return pgettext("bulletin", "the year %(year)s", year=start.year)
    return pgettext("bulletin", "%(start)s to %(end)s", start=cn_date(start), end=cn_date(end))


def title_for(period: Period) -> str:
    """2026年11月招商引资工作督查通报."""
    return _("Bulletin on the investment attraction work of %(period)s", period=period_words(period))


def check_period(period: Period, today: date) -> None:
    """A bulletin is kept as issued, so it covers a period that is over: a month still running
    would take the period's place and the finished month could never have its own."""
    if period.end >= today:
        raise BulletinError(_(
            "The period %(period)s is not over yet (it ends on %(end)s): a bulletin is kept as issued, so it "
            "covers a finished period. To report on the days so far, choose dates ending yesterday.",
            period=period_words(period), end=period.end.isoformat()))


def find(period: Period) -> Bulletin | None:
    return db.session.scalar(select(Bulletin).where(Bulletin.period_start == period.start,
                                                    Bulletin.period_end == period.end))


# --- making -------------------------------------------------------------------------------------

def make(period: Period, actor=None, by_job: bool = False) -> Bulletin:
    """The bulletin of `period`: the existing one, or a new one with its snapshot taken today and
    its document number (crm.papers, kind BULLETIN, dated today). Flushes, never commits."""
    found = find(period)
    if found is not None:
        return found
    from crm.papers.models import PaperKind
    from crm.papers.services import number_for, peek_settings

    today = clock.today()
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        content = snapshot(period, today)
        content["issuer"] = peek_settings().issuer(PaperKind.BULLETIN)
        title = title_for(period)
    try:
        with db.session.begin_nested():
            bulletin = Bulletin(period_kind=period.kind, period_start=period.start, period_end=period.end,
                                title=title[:200], issued_on=today, content=content, made_by_job=by_job,
                                created_by_id=getattr(actor, "id", None))
            db.session.add(bulletin)
            db.session.flush()
    except IntegrityError:
        # Made by a concurrent run meanwhile (the savepoint took ours back): theirs is the one.
        found = find(period)
        if found is None:
            raise
        return found
    number_for(PaperKind.BULLETIN, bulletin.id, today)
    return bulletin


def snapshot(period: Period, on: date) -> dict:
    """Everything the bulletin says, as it stands on `on` (JSON-ready)."""
    return {
        "version": CONTENT_VERSION,
        "period": {"kind": period.kind, "start": period.start.isoformat(), "end": period.end.isoformat()},
        "as_of": on.isoformat(),
        "ranking": ranking_snapshot(period),
        "red_projects": red_projects(on),
        "overdue_letters": overdue_letters(on),
        "overdue_problems": overdue_problems(on),
        "timeliness": timeliness_snapshot(period),
    }


def jsonable(value):
    """A figure as JSON keeps it: Decimal as a number, a date as ISO text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


# --- the ranking (月晒季考) -----------------------------------------------------------------------

def _metric_labels() -> tuple[list[str], dict[str, str]]:
    """The ranking's metric order and labels (crm.ranking.queries.METRICS), in the reader's language."""
    from crm.ranking.queries import METRICS

    return [m.key for m in METRICS], {m.key: str(m.label) for m in METRICS}


def ranking_snapshot(period: Period) -> dict:
    from crm.ranking.queries import ranking

    rows = []
    seen: list[str] = []
    for row in ranking(period) or []:
        figures = jsonable(dict(row.figures))
        for key in figures:
            if key not in seen:
                seen.append(key)
        rows.append({"unit_id": row.unit_id, "unit": row.unit_name, "place": row.place,
                     "previous_place": row.previous_place, "change": row.change, "figures": figures})
    order, labels = _metric_labels()
    columns = [key for key in order if key in seen] + [key for key in seen if key not in order]
    return {"columns": columns, "labels": {k: v for k, v in labels.items() if k in columns}, "rows": rows}


# --- red projects (亮红灯) -------------------------------------------------------------------------

def _end_of(day: date) -> datetime:
    """Local midnight after `day`, aware (compared with stored UTC moments)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.local_zone())


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.local_zone())


def _project_name(lead_project: str | None, company: str) -> str:
    return lead_project or company


def red_projects(on: date) -> list[dict]:
    """The projects whose light is red on `on`, with their reasons in words. The current light
    when it was computed on or before that day (the job's case: the lights run at 01:00); else
    (a bulletin made as of an earlier day, e.g. the demo's) the last change of colour on or
    before it — or the current light for a project with no history at all."""
    from crm.lights.models import Colour, LightChange, ProjectLight
    from crm.lights.rules import describe

    red = Colour.RED.value
    cutoff = _end_of(on)
    found: dict[int, tuple[list, date]] = {}
    current = select(ProjectLight.lead_id, ProjectLight.reasons, ProjectLight.since).where(
        ProjectLight.colour == red,
        or_(ProjectLight.computed_at < cutoff,
            ~select(LightChange.id).where(LightChange.lead_id == ProjectLight.lead_id).exists()))
    for lead_id, reasons, since in db.session.execute(current):
        found[lead_id] = (reasons or [], since)
    # Lights computed after `on`: the colour they had then, from their history.
    later = select(ProjectLight.lead_id).where(ProjectLight.computed_at >= cutoff)
    latest = (select(LightChange.lead_id, func.max(LightChange.changed_at).label("at"))
              .where(LightChange.changed_on <= on, LightChange.lead_id.in_(later))
              .group_by(LightChange.lead_id).subquery())
    history = (select(LightChange.lead_id, LightChange.reasons, LightChange.changed_on)
               .join(latest, and_(LightChange.lead_id == latest.c.lead_id, LightChange.changed_at == latest.c.at))
               .where(LightChange.to_colour == red))
    for lead_id, reasons, changed_on in db.session.execute(history):
        found.setdefault(lead_id, (reasons or [], changed_on))
    if not found:
        return []
    leads = {}
    ids = list(found)
    for start in range(0, len(ids), 1000):
        for lead_id, project, company, unit in db.session.execute(
                select(Lead.id, Lead.project_name, Lead.company_name, Unit.name)
                .join(Unit, Unit.id == Lead.owner_unit_id).where(Lead.id.in_(ids[start:start + 1000]))):
            leads[lead_id] = (project, company, unit)
    out = []
    for lead_id, (reasons, since) in found.items():
        if lead_id not in leads:
            continue
        project, company, unit = leads[lead_id]
        # Only the red reasons make the light red; the yellow ones are named after them.
        ordered = sorted(reasons, key=lambda r: 0 if r.get("colour") == red else 1)
        out.append({"lead_id": lead_id, "project": _project_name(project, company), "company": company,
                    "unit": unit, "since": since.isoformat() if since else None,
                    "reasons": [describe(reason, on) for reason in ordered],
                    "codes": [reason.get("code") for reason in ordered]})
    out.sort(key=lambda r: (r["unit"], r["since"] or "", r["lead_id"]))
    return out


# --- letters and problems overdue -------------------------------------------------------------------

def overdue_letters(on: date) -> list[dict]:
    """The letters (三函) issued by `on` whose reply date had passed on `on` without a reply."""
    from crm.letters.models import Letter
    from crm.letters.queries import numbers_for

    rows = db.session.execute(
        select(Letter.id, Letter.kind, Letter.issued_on, Letter.reply_due_on, Lead.project_name, Lead.company_name,
               Unit.name)
        .join(Lead, Lead.id == Letter.lead_id).join(Unit, Unit.id == Letter.unit_id)
        .where(Letter.issued_on <= on, Letter.reply_due_on < on,
               or_(Letter.replied_at.is_(None), Letter.replied_on > on))
        .order_by(Letter.reply_due_on, Letter.id)).all()
    numbers = {}
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), 1000):
        numbers.update(numbers_for(ids[start:start + 1000]))
    return [{"letter_id": letter_id, "number": numbers.get(letter_id, ""), "kind": kind,
             "project": _project_name(project, company), "unit": unit, "issued_on": issued.isoformat(),
             "reply_due_on": due.isoformat(), "days_overdue": (on - due).days}
            for letter_id, kind, issued, due, project, company, unit in rows]


def overdue_problems(on: date) -> list[dict]:
    """The problems raised by `on` past their due date on `on` and not solved by then."""
    from crm.papers.docx import one_line
    from crm.problems.models import OPEN_STATUSES, Problem, ProblemStatus

    still_open = or_(Problem.status.in_([s.value for s in OPEN_STATUSES]),
                     and_(Problem.status == ProblemStatus.SOLVED.value, Problem.solved_on > on))
    rows = db.session.execute(
        select(Problem.id, Problem.category, Problem.description, Problem.due_on, Problem.status,
               Lead.project_name, Lead.company_name, Unit.name)
        .join(Lead, Lead.id == Problem.lead_id).join(Unit, Unit.id == Problem.responsible_unit_id)
        .where(Problem.raised_on <= on, Problem.due_on < on, still_open)
        .order_by(Problem.due_on, Problem.id)).all()
    return [{"problem_id": problem_id, "project": _project_name(project, company), "category": category,
             "description": one_line(description), "unit": unit, "due_on": due.isoformat(),
             "days_overdue": (on - due).days, "status": status}
            for problem_id, category, description, due, status, project, company, unit in rows]


# --- pre-screening timeliness ------------------------------------------------------------------------

def timeliness_snapshot(period: Period) -> list[dict]:
    """Per member unit, the cases submitted in the period (county days, local midnight to midnight)."""
    from crm.screening.queries import timeliness

    return [{"unit_id": row.unit_id, "unit": row.unit_name, "cases": row.cases, "on_time": row.on_time,
             "late": row.late, "missing": row.missing, "pending": row.pending,
             "on_time_rate": row.on_time_rate, "median_hours": row.median_hours}
            for row in timeliness(_start_of(period.start), _end_of(period.end))]


# --- reading ---------------------------------------------------------------------------------------

def bulletin_list(limit: int = 500) -> list[Bulletin]:
    """Newest first (the last made on top)."""
    return list(db.session.scalars(select(Bulletin).order_by(Bulletin.issued_on.desc(), Bulletin.id.desc())
                                   .limit(limit)))


def numbers_for(bulletin_ids) -> dict[int, str]:
    from crm.papers.models import DocumentNumber, PaperKind
    from crm.papers.services import number_text

    ids = list(bulletin_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(DocumentNumber).where(DocumentNumber.kind == PaperKind.BULLETIN.value,
                                                           DocumentNumber.subject_id.in_(ids)))
    return {row.subject_id: number_text(row, PaperKind.BULLETIN) for row in rows}

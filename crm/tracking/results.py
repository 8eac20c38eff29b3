"""Yearly output and tax (万元) of a producing project: typed in by the owner unit, or from the
tax bureau's sheet (crm.tracking.results_import). One row per project and year; a second entry
for the same year replaces the first (the audit log keeps the old figures). Rules flush, never commit."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from crm import clock, signals
from crm.extensions import db
from crm.leads.pipeline import Stage
from crm.tracking.models import YearlyResult
from crm.validation import OutOfRange, check_amount

PRODUCING_STAGES = (Stage.PRODUCING, Stage.ABOVE_SCALE)
FIRST_YEAR = 1990


class ResultError(ValueError):
    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.field, self.status = field, status


def is_producing(lead) -> bool:
    return lead.stage in PRODUCING_STAGES


def year_problem(year) -> str | None:
    """Why a year cannot be taken, or None: a whole number from 1990 to the current year."""
    if isinstance(year, bool) or not isinstance(year, int):
        return _("The year is a whole number such as %(y)s.", y=clock.today().year - 1)
    if not FIRST_YEAR <= year <= clock.today().year:
        return _("The year must be from %(a)s to %(b)s.", a=FIRST_YEAR, b=clock.today().year)
    return None


def amount_problem(value) -> tuple[Decimal | None, str | None]:
    """(the amount, None) or (None, why not); a negative amount is named as such."""
    if value is None:
        return None, None
    try:
        return check_amount(value, negative_message=_("The amount cannot be negative.")), None
    except OutOfRange as exc:
        return None, str(exc)


def results_for(lead_id: int) -> list[YearlyResult]:
    """The project's results, latest year first."""
    return list(db.session.scalars(select(YearlyResult).where(YearlyResult.lead_id == lead_id)
                                   .order_by(YearlyResult.year.desc())))


def latest_result(lead_id: int) -> YearlyResult | None:
    return db.session.scalar(select(YearlyResult).where(YearlyResult.lead_id == lead_id)
                             .order_by(YearlyResult.year.desc()).limit(1))


def result_for_year(lead_id: int, year: int) -> YearlyResult | None:
    return db.session.scalar(select(YearlyResult).where(YearlyResult.lead_id == lead_id,
                                                        YearlyResult.year == year))


def put_result(lead, year, output_wan, tax_wan, actor, source: str = "manual",
               import_ref: str | None = None) -> tuple[YearlyResult, bool]:
    """Record a year's output and tax; returns (row, replaced an existing year)."""
    if not is_producing(lead):
        raise ResultError(_("Yearly results are recorded for producing projects (投产 or 上规) only."), "year",
                          status=409)
    problem = year_problem(year)
    if problem:
        raise ResultError(problem, "year")
    output, problem = amount_problem(output_wan)
    if problem:
        raise ResultError(problem, "output_wan")
    tax, problem = amount_problem(tax_wan)
    if problem:
        raise ResultError(problem, "tax_wan")
    if output is None and tax is None:
        raise ResultError(_("Give the output or the tax of the year (or both)."), "output_wan")
    row = result_for_year(lead.id, year)
    replaced = row is not None
    if row is None:
        row = YearlyResult(lead_id=lead.id, year=year)
        db.session.add(row)
    row.output_wan, row.tax_wan, row.source, row.import_ref = output, tax, source, import_ref
    row.recorded_by_id = getattr(actor, "id", None)
    row.recorded_at = clock.now()
    db.session.flush()
    signals.project_changed.send(lead_id=lead.id)
    return row, replaced

"""Tracking core rules: the agreement (投资协议), milestone plans (every replan kept) and actual
dates, and 到资 entries. They change state and flush, never commit; after each change of a
project's facts they send signals.project_changed.

One truth between the lead's stage and the milestones: recording an actual 签约/开工/竣工/投产/上规
moves the lead through crm.leads.services.change_stage, and a stage move made elsewhere records
the actual (stage_moved, connected to signals.lead_stage_changed)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from crm import clock, signals
from crm.extensions import db
from crm.leads import services as lead_services
from crm.leads.models import Lead
from crm.leads.pipeline import Stage, rank
from crm.tracking.models import (MILESTONE_ORDER, MILESTONE_STAGE, Agreement, InvestmentEntry, Milestone,
                                 MilestoneActual, MilestonePlan, milestone_label)
from crm.validation import OutOfRange, check_amount, check_date, check_text

AGREEMENT_AMOUNTS = ("total_investment_wan", "fixed_asset_investment_wan", "land_area_mu",
                     "promised_output_wan", "promised_tax_wan")
AGREEMENT_FIELDS = AGREEMENT_AMOUNTS + ("jobs", "note")
# The lead's figures a new agreement starts from.
PREFILL = {"total_investment_wan": "planned_investment_wan",
           "fixed_asset_investment_wan": "fixed_asset_investment_wan", "land_area_mu": "land_area_mu",
           "promised_output_wan": "expected_output_wan", "promised_tax_wan": "expected_tax_wan", "jobs": "jobs"}
STAGE_MILESTONE = {stage.value: milestone for milestone, stage in MILESTONE_STAGE.items()}
JOBS_LIMIT = 10_000_000


class TrackingError(ValueError):
    """A rule was broken; `field` names the form/API field the message belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ConcurrentAgreementEdit(TrackingError):
    def __init__(self, agreement: Agreement):
        who = agreement.updated_by.display_name if agreement.updated_by else _("someone else")
        super().__init__(_("The agreement was changed by %(who)s since you opened it. Reload the page "
                           "and make your changes again.", who=who), "version")


def _changed(lead: Lead) -> None:
    signals.project_changed.send(lead_id=lead.id)


def _ensure_tracked(lead: Lead) -> None:
    from crm.tracking.access import is_tracked

    if not is_tracked(lead):
        raise TrackingError(_("Only an admitted (or later) project is tracked."))


# --- reading -------------------------------------------------------------------------------------

def agreement_of(lead_id: int) -> Agreement | None:
    return db.session.scalar(select(Agreement).where(Agreement.lead_id == lead_id))


def current_plans(lead_id: int) -> dict[str, MilestonePlan]:
    rows = db.session.scalars(select(MilestonePlan).where(MilestonePlan.lead_id == lead_id,
                                                          MilestonePlan.superseded_at.is_(None)))
    return {row.milestone: row for row in rows}


def all_plans(lead_id: int) -> list[MilestonePlan]:
    return list(db.session.scalars(select(MilestonePlan).where(MilestonePlan.lead_id == lead_id)
                                   .order_by(MilestonePlan.created_at, MilestonePlan.id)))


def actuals(lead_id: int) -> dict[str, MilestoneActual]:
    rows = db.session.scalars(select(MilestoneActual).where(MilestoneActual.lead_id == lead_id))
    return {row.milestone: row for row in rows}


def investments(lead_id: int) -> list[InvestmentEntry]:
    return list(db.session.scalars(select(InvestmentEntry).where(InvestmentEntry.lead_id == lead_id)
                                   .order_by(InvestmentEntry.paid_on, InvestmentEntry.id)))


def invested_total(lead_id: int) -> Decimal:
    total = db.session.scalar(select(func.coalesce(func.sum(InvestmentEntry.amount_wan), 0))
                              .where(InvestmentEntry.lead_id == lead_id))
    return Decimal(total or 0).quantize(Decimal("0.01"))


def prefill_from_lead(lead: Lead) -> dict:
    return {key: getattr(lead, source, None) for key, source in PREFILL.items()}


# --- the agreement -------------------------------------------------------------------------------

def _parse_milestone(value, field: str = "milestone") -> Milestone:
    try:
        return Milestone(value)
    except ValueError:
        raise TrackingError(_("Unknown milestone: %(m)s.", m=str(value)[:40]), field)


def _check_agreement_values(data: dict) -> dict:
    clean = {}
    field = None
    try:
        for key in AGREEMENT_AMOUNTS:
            if key in data:
                field = key
                value = data[key]
                clean[key] = None if value in (None, "") else check_amount(
                    value, negative_message=_("An amount cannot be negative."))
        if "jobs" in data:
            field = "jobs"
            jobs = data["jobs"]
            if jobs in (None, ""):
                clean["jobs"] = None
            else:
                if isinstance(jobs, bool) or not isinstance(jobs, int):
                    raise OutOfRange(_("Give the number of jobs as a whole number."))
                if jobs < 0 or jobs > JOBS_LIMIT:
                    raise OutOfRange(_("The number of jobs is out of range."))
                clean["jobs"] = jobs
        if "note" in data:
            field = "note"
            note = (data["note"] or "").strip() or None
            clean["note"] = check_text(note, limit=5000)
    except OutOfRange as exc:
        raise TrackingError(str(exc), field) from exc
    total, fixed = clean.get("total_investment_wan"), clean.get("fixed_asset_investment_wan")
    if total is not None and fixed is not None and fixed > total:
        raise TrackingError(_("The fixed-asset investment cannot exceed the total investment."),
                            "fixed_asset_investment_wan")
    return clean


def _check_plan_order(planned: dict[str, date]) -> None:
    """Planned dates in the milestones' order: a later milestone is not planned before an earlier one."""
    previous: tuple[Milestone, date] | None = None
    for milestone in MILESTONE_ORDER:
        day = planned.get(milestone.value)
        if day is None:
            continue
        if previous is not None and day < previous[1]:
            raise TrackingError(_("The planned %(later)s (%(day)s) cannot be before the planned %(earlier)s "
                                  "(%(before)s).", later=milestone_label(milestone), day=day.isoformat(),
                                  earlier=milestone_label(previous[0]), before=previous[1].isoformat()),
                                f"plan_{milestone.value}")
        previous = (milestone, day)


def set_plans(lead: Lead, dates: dict, actor, reason: str | None = None) -> list[MilestonePlan]:
    """Plan (or replan) milestone dates. `dates`: milestone code → date (None/missing: unchanged).
    A replan adds a row and supersedes the earlier one; it needs a reason."""
    _ensure_tracked(lead)
    wanted: dict[str, date] = {}
    for key, day in dates.items():
        milestone = _parse_milestone(key, f"plan_{key}")
        if day is None:
            continue
        if not isinstance(day, date):
            raise TrackingError(_("The date must look like 2024-03-05."), f"plan_{milestone.value}")
        try:
            check_date(day, planned=True)
        except OutOfRange as exc:
            raise TrackingError(str(exc), f"plan_{milestone.value}") from exc
        wanted[milestone.value] = day
    current = current_plans(lead.id)
    changes = {m: d for m, d in wanted.items() if m not in current or current[m].planned_on != d}
    if not changes:
        return []
    merged = {m: p.planned_on for m, p in current.items()} | wanted
    _check_plan_order(merged)
    reason = (reason or "").strip() or None
    try:
        check_text(reason, limit=500)
    except OutOfRange as exc:
        raise TrackingError(str(exc), "reason") from exc
    if reason is None and any(m in current for m in changes):
        raise TrackingError(_("Give the reason for changing a planned date (the first plan is kept)."), "reason")
    now = clock.now()
    added = []
    for milestone in MILESTONE_ORDER:
        day = changes.get(milestone.value)
        if day is None:
            continue
        earlier = current.get(milestone.value)
        if earlier is not None:
            earlier.superseded_at = now
        plan = MilestonePlan(lead_id=lead.id, milestone=milestone.value, planned_on=day,
                             reason=reason if earlier is not None else None,
                             created_by_id=getattr(actor, "id", None), created_at=now)
        db.session.add(plan)
        added.append(plan)
    db.session.flush()
    _changed(lead)
    return added


def save_agreement(lead: Lead, data: dict, actor, expected_version=None, plans: dict | None = None,
                   reason: str | None = None) -> Agreement:
    """Create or change the agreement (optimistic locking on `expected_version`), and plan its
    milestones. Nothing is written when a value or a date is refused."""
    _ensure_tracked(lead)
    clean = _check_agreement_values({k: v for k, v in data.items() if k in AGREEMENT_FIELDS})
    agreement = agreement_of(lead.id)
    if agreement is not None and expected_version not in (None, ""):
        try:
            expected = int(expected_version)
        except (TypeError, ValueError):
            raise TrackingError(_("The form is damaged (bad version). Reload the page."), "version")
        if expected != agreement.version:
            raise ConcurrentAgreementEdit(agreement)
    if plans:
        # Checked before anything is written, so a refused date leaves the agreement as it was.
        merged = {m: p.planned_on for m, p in current_plans(lead.id).items()}
        for key, day in plans.items():
            if day is not None:
                merged[_parse_milestone(key, f"plan_{key}").value] = day
        _check_plan_order(merged)
    with db.session.begin_nested():  # a refused replan (no reason) leaves the agreement as it was
        if agreement is None:
            agreement = Agreement(lead_id=lead.id)
            db.session.add(agreement)
        for key, value in clean.items():
            setattr(agreement, key, value)
        agreement.updated_by_id = getattr(actor, "id", None)
        db.session.flush()  # version_id_col guards the race between our read and this write
        if plans:
            set_plans(lead, plans, actor, reason)
    _changed(lead)
    return agreement


# --- actual dates --------------------------------------------------------------------------------

def _check_actual_order(lead: Lead, milestone: Milestone, day: date, recorded: dict[str, MilestoneActual],
                        field: str = "actual_on") -> None:
    """The actual date follows every earlier recorded milestone and precedes every later one; a
    staged milestone needs the staged milestone before it (no 竣工 without 开工)."""
    # The lead's own 签约/开工 dates stand in for actuals not recorded (a project older than tracking).
    dates = {Milestone.SIGN.value: lead.signed_on, Milestone.START.value: lead.started_on}
    dates.update({m: row.actual_on for m, row in recorded.items()})
    index = MILESTONE_ORDER.index(milestone)
    for earlier in MILESTONE_ORDER[:index]:
        other = dates.get(earlier.value)
        if other is not None and day < other:
            raise TrackingError(_("The actual %(m)s (%(day)s) cannot be before the actual %(e)s (%(before)s).",
                                  m=milestone_label(milestone), day=day.isoformat(),
                                  e=milestone_label(earlier), before=other.isoformat()), field)
    for later in MILESTONE_ORDER[index + 1:]:
        other = dates.get(later.value)
        if other is not None and day > other:
            raise TrackingError(_("The actual %(m)s (%(day)s) cannot be after the actual %(l)s (%(after)s).",
                                  m=milestone_label(milestone), day=day.isoformat(),
                                  l=milestone_label(later), after=other.isoformat()), field)
    required = previous_staged(milestone)
    if required is not None and dates.get(required.value) is None:
        raise TrackingError(_("Record the actual %(e)s first: %(m)s cannot come before it.",
                              e=milestone_label(required), m=milestone_label(milestone)), "milestone")


def previous_staged(milestone: Milestone) -> Milestone | None:
    """The milestone that must have happened first: 签约 before 供地 and 开工, 开工 before 竣工 …"""
    staged = [m for m in MILESTONE_ORDER if m in MILESTONE_STAGE]
    if milestone == Milestone.SIGN:
        return None
    if milestone == Milestone.LAND:
        return Milestone.SIGN
    return staged[staged.index(milestone) - 1]


def record_actual(lead: Lead, milestone, actual_on: date, actor, note: str | None = None) -> MilestoneActual:
    """Record the day a milestone was reached; the lead's stage follows (change_stage)."""
    _ensure_tracked(lead)
    milestone = _parse_milestone(milestone)
    if not isinstance(actual_on, date):
        raise TrackingError(_("Give the date."), "actual_on")
    try:
        check_date(actual_on)
    except OutOfRange as exc:
        raise TrackingError(str(exc), "actual_on") from exc
    try:
        note = check_text((note or "").strip() or None, limit=5000)
    except OutOfRange as exc:
        raise TrackingError(str(exc), "note") from exc
    if lead.stage in (Stage.LOST, Stage.REJECTED):
        raise TrackingError(_("The project is terminated: its milestones can no longer be recorded."), "milestone")
    recorded = actuals(lead.id)
    if milestone.value in recorded:
        raise TrackingError(_("The actual %(m)s is already recorded (%(day)s).", m=milestone_label(milestone),
                              day=recorded[milestone.value].actual_on.isoformat()), "milestone")
    _check_actual_order(lead, milestone, actual_on, recorded)
    stage = MILESTONE_STAGE.get(milestone)
    row = MilestoneActual(lead_id=lead.id, milestone=milestone.value, actual_on=actual_on, note=note,
                          recorded_by_id=getattr(actor, "id", None))
    try:
        with db.session.begin_nested():  # a refused stage move leaves no actual behind
            db.session.add(row)
            db.session.flush()
            if stage is not None and rank(lead.stage) < rank(stage):
                lead_services.change_stage(lead, stage.value, actor, on_date=actual_on)
            elif stage is not None:
                _sync_lead_date(lead, milestone, actual_on)
    except lead_services.LeadError as exc:
        raise TrackingError(str(exc), "actual_on") from exc
    _changed(lead)
    return row


def _sync_lead_date(lead: Lead, milestone: Milestone, day: date) -> None:
    """The lead's own 签约/开工 dates agree with the recorded actuals (one truth)."""
    if milestone == Milestone.SIGN and lead.signed_on != day:
        lead.signed_on = day
    elif milestone == Milestone.START and lead.started_on != day:
        lead.started_on = day
    db.session.flush()


def stage_moved(sender=None, lead: Lead | None = None, old_stage=None, on_date: date | None = None,
                actor=None, **_kw) -> None:
    """Receiver of signals.lead_stage_changed: a move to 签约/开工/竣工/投产/上规 made elsewhere (the
    stage form, the API, an import) records the milestone's actual date, dated on_date, unless it
    is recorded already (the move came from record_actual). A date before an earlier recorded
    actual is refused, so the stage never contradicts the milestones."""
    if lead is None:
        return
    milestone = STAGE_MILESTONE.get(lead.stage)
    if milestone is None:
        return
    recorded = actuals(lead.id)
    if milestone.value in recorded:
        return
    day = on_date or clock.today()
    try:
        _check_actual_order(lead, milestone, day, recorded)
    except TrackingError as exc:
        if exc.field == "milestone":
            pass  # an earlier milestone was never recorded (a project older than tracking): allowed
        else:
            raise lead_services.LeadError(str(exc), "on_date") from exc
    db.session.add(MilestoneActual(lead_id=lead.id, milestone=milestone.value, actual_on=day,
                                   recorded_by_id=getattr(actor, "id", None)))
    db.session.flush()
    _changed(lead)


# --- 到资 ----------------------------------------------------------------------------------------

def add_investment(lead: Lead, amount, paid_on: date, actor, note: str | None = None,
                   confirm_over_total: bool = False) -> InvestmentEntry:
    """A dated amount of investment actually made (万元)."""
    _ensure_tracked(lead)
    try:
        amount = check_amount(amount, negative_message=_("The amount must be greater than 0."))
    except OutOfRange as exc:
        raise TrackingError(str(exc), "amount_wan") from exc
    if amount is None or amount <= 0:
        raise TrackingError(_("The amount must be greater than 0."), "amount_wan")
    if not isinstance(paid_on, date):
        raise TrackingError(_("Give the date."), "paid_on")
    try:
        check_date(paid_on)
    except OutOfRange as exc:
        raise TrackingError(str(exc), "paid_on") from exc
    try:
        note = check_text((note or "").strip() or None, limit=500)
    except OutOfRange as exc:
        raise TrackingError(str(exc), "note") from exc
    agreement = agreement_of(lead.id)
    contracted = agreement.total_investment_wan if agreement is not None else None
    if contracted is not None:
        total = invested_total(lead.id) + amount
        if total > contracted and not confirm_over_total:
            raise TrackingError(_("With this entry the investment made (%(total)s 万元) exceeds the contracted "
                                  "total (%(contracted)s 万元). Tick the confirmation to record it anyway.",
                                  total=f"{total:,.2f}", contracted=f"{contracted:,.2f}"), "confirm_over_total")
    entry = InvestmentEntry(lead_id=lead.id, paid_on=paid_on, amount_wan=amount, note=note,
                            recorded_by_id=getattr(actor, "id", None))
    db.session.add(entry)
    db.session.flush()
    _changed(lead)
    return entry

"""Lead rules: create, update (optimistic locking), stage moves, follow-ups. Flush, never commit."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import or_, select

from crm.auth.models import Unit, User
from crm.chains.models import ChainNode
from crm.extensions import db
from crm.leads.models import Lead, LeadActivity, LeadStageChange, Source, normalize_company_name
from crm import clock, signals
from crm.leads.names import BLOCK, close_enough
from crm.leads.pipeline import OPEN_STAGES, Stage, can_move, can_record_history, stage_label
from crm.validation import OutOfRange, check_amount, check_date, check_text


class LeadError(ValueError):
    """A rule was broken; `field` names the form field the message belongs to (if any)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ConcurrentEditError(LeadError):
    def __init__(self, lead: Lead):
        who = lead.updated_by.display_name if lead.updated_by else _("someone else")
        super().__init__(_("This lead was changed by %(who)s since you opened it. Reload the page "
                           "to see their changes, then make yours again.", who=who))
        self.lead = lead


def unit_following(company_name: str, uscc: str | None, own_unit_id: int,
                   exclude_lead_id: int | None = None) -> Unit | None:
    """Another unit that already follows this company: same USCC, same name key, or a key close
    enough by the import's fuzzy rule (crm.leads.names) whose code does not differ.

    Only the unit is returned: towns compete for investors, so nothing else is disclosed.
    """
    key = normalize_company_name(company_name)
    conds = [Lead.company_key == key] if key else []
    if uscc:
        conds.append(Lead.uscc == uscc)
    if not conds:
        return None
    others = (Lead.owner_unit_id != own_unit_id, Lead.stage.in_([s.value for s in OPEN_STAGES]))
    if exclude_lead_id:
        others += (Lead.id != exclude_lead_id,)
    stmt = select(Unit).join(Lead, Lead.owner_unit_id == Unit.id).where(or_(*conds), *others).limit(1)
    unit = db.session.scalar(stmt)
    if unit is not None or len(key) <= BLOCK:
        return unit
    rows = db.session.execute(
        select(Lead.company_key, Lead.uscc, Unit).join(Unit, Unit.id == Lead.owner_unit_id)
        .where(Lead.company_key.startswith(key[:BLOCK], autoescape=True), *others).limit(500))
    for other_key, other_uscc, other_unit in rows:
        if uscc and other_uscc and uscc != other_uscc:
            continue  # both have a code and they differ: two companies
        if close_enough(key, other_key):
            return other_unit
    return None


AMOUNT_FIELDS = ("planned_investment_wan", "fixed_asset_investment_wan", "expected_output_wan", "expected_tax_wan")


def check_values(data: dict) -> None:
    """The ranges every door keeps (crm.validation): the form and the API check them field by
    field first; this catches any other caller (a target's conversion, a script)."""
    try:
        for key in AMOUNT_FIELDS + ("land_area_mu",):
            if key in data:
                field = key
                data[key] = check_amount(data[key], positive=key == "land_area_mu")
        if data.get("rd_ratio") is not None:
            field = "rd_ratio"
            data["rd_ratio"] = check_amount(data["rd_ratio"], limit=Decimal(100))
        field = "company_name"
        check_text(data.get("company_name"), limit=200, one_line=True)
        for key in ("project_name", "origin_region", "note", "uscc"):
            field = key
            check_text(data.get(key))
        field = "created_on"
        check_date(data.get("created_on"))
    except OutOfRange as exc:
        raise LeadError(str(exc), field) from exc


def _check_references(data: dict, unit_id: int) -> None:
    if data.get("owner_id"):
        owner = db.session.get(User, data["owner_id"])
        if owner is None or owner.unit_id != unit_id or not owner.active:
            raise LeadError(_("The responsible officer must be an active member of the lead's unit."), "owner_id")
    if data.get("chain_node_id"):
        node = db.session.get(ChainNode, data["chain_node_id"])
        if node is None:
            raise LeadError(_("Unknown chain node."), "chain_node_id")
        if data.get("chain_id") and node.chain_id != data["chain_id"]:
            raise LeadError(_("This node belongs to another industry chain."), "chain_node_id")
        data["chain_id"] = node.chain_id
    if data.get("source_id"):
        source = db.session.get(Source, data["source_id"])
        if source is None:
            raise LeadError(_("Unknown source."), "source_id")
        if data.get("source_kind") and data["source_kind"] != source.kind:
            raise LeadError(_("The source kind differs from the kind of the chosen source."), "source_kind")
        data["source_kind"] = source.kind


def _apply(lead: Lead, data: dict) -> None:
    for key, value in data.items():
        if key == "created_on" and value is None:
            continue
        setattr(lead, key, value)
    lead.company_key = normalize_company_name(lead.company_name)


def check_company_elsewhere(data: dict, unit_id: int, confirmed: bool, exclude_lead_id=None) -> None:
    other = unit_following(data["company_name"], data.get("uscc"), unit_id, exclude_lead_id)
    if other is not None and not confirmed:
        raise LeadError(_("%(unit)s already follows this company. Tick the confirmation to record "
                          "it anyway.", unit=other.name), "company_name")


def create_lead(data: dict, unit: Unit, actor: User, confirmed_duplicate: bool = False,
                contacts=()) -> Lead:
    """A new lead in `unit`, with its contacts (crm.contacts: the first is the primary unless
    another says is_primary; a refused one raises ContactError with its `index`)."""
    data = dict(data)
    check_values(data)
    _check_references(data, unit.id)
    check_company_elsewhere(data, unit.id, confirmed_duplicate)
    lead = Lead(owner_unit=unit, stage=Stage.LEAD.value, updated_by=actor)
    if not data.get("owner_id"):
        data["owner_id"] = actor.id if actor.unit_id == unit.id else None
    _apply(lead, data)
    db.session.add(lead)
    lead.stage_changes.append(LeadStageChange(from_stage=None, to_stage=Stage.LEAD.value, changed_by=actor))
    db.session.flush()
    if contacts:
        from crm.contacts.services import add_contacts

        add_contacts(lead, contacts, actor)
    return lead


def _check_version(lead: Lead, expected_version) -> None:
    if expected_version in (None, ""):
        return
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise LeadError(_("The form is damaged (bad version). Reload the page."))
    if expected != lead.version:
        raise ConcurrentEditError(lead)


def update_lead(lead: Lead, data: dict, actor: User, expected_version=None,
                confirmed_duplicate: bool = False) -> Lead:
    """Apply changes if nobody saved the lead since `expected_version` was read."""
    _check_version(lead, expected_version)
    data = dict(data)
    check_values(data)
    _check_references(data, lead.owner_unit_id)
    data.setdefault("company_name", lead.company_name)
    renamed = normalize_company_name(data["company_name"]) != lead.company_key
    if renamed or data.get("uscc", lead.uscc) != lead.uscc:
        check_company_elsewhere(data, lead.owner_unit_id, confirmed_duplicate, exclude_lead_id=lead.id)
    _apply(lead, data)
    lead.updated_by = actor
    db.session.flush()  # version_id_col guards the race between our read and this write
    return lead


def check_move(current: str, target: str, workflow: bool = False, history: bool = False) -> Stage:
    """The rule every door asks (form, API, import, jobs): may a lead at `current` move to
    `target`? Returns the target stage, or raises LeadError with the reason."""
    try:
        target_stage = Stage(target)
    except ValueError:
        raise LeadError(_("Unknown stage: %(stage)s.", stage=target), "to_stage")
    allowed = (can_record_history(current, target_stage) if history
               else can_move(current, target_stage, workflow=workflow))
    if not allowed:
        raise LeadError(_("A lead cannot move from %(a)s to %(b)s.", a=stage_label(current),
                          b=stage_label(target_stage)), "to_stage")
    return target_stage


def history_moment(day: date) -> datetime:
    """A ledger date as a moment: local noon, so the day stays the same in UTC."""
    return datetime.combine(day, time(12), tzinfo=clock.local_zone()).astimezone(timezone.utc)


def change_stage(lead: Lead, target: str, actor: User | None, reason: str | None = None,
                 on_date: date | None = None, expected_version=None,
                 workflow: bool = False, flush: bool = True, history: bool = False) -> LeadStageChange:
    """Move a lead. `workflow`: a move only a workflow may make (pre-screening), not a person.
    `history`: the historical ledger import records a past move dated `on_date` (marked as
    history on the change and the lead). `flush=False` leaves the flush to the caller (a batch
    of moves flushes once)."""
    _check_version(lead, expected_version)
    target_stage = check_move(lead.stage, target, workflow=workflow, history=history)
    reason = (reason or "").strip() or None
    if target_stage == Stage.LOST and not reason:
        raise LeadError(_("Give the reason the lead is terminated."), "reason")
    when = on_date or clock.today()
    try:
        check_date(when, planned=True)  # before 1990; the future is refused just below
    except OutOfRange as exc:
        raise LeadError(str(exc), "on_date") from exc
    if when > clock.today():
        raise LeadError(_("The date cannot be in the future."), "on_date")
    if target_stage == Stage.SIGNED:
        lead.signed_on = when
    elif target_stage == Stage.STARTED:
        if lead.signed_on and when < lead.signed_on:
            raise LeadError(_("Construction cannot start before the signing date."), "on_date")
        lead.started_on = when
    elif target_stage == Stage.LOST:
        lead.lost_reason = reason
    # Linked from the change's side, so the lead's history is not loaded just to append to it.
    change = LeadStageChange(lead=lead, from_stage=lead.stage, to_stage=target_stage.value, reason=reason,
                             changed_by=actor, history=history)
    if history:
        lead.imported_history = True
        if on_date is not None:
            change.changed_at = history_moment(on_date)
    db.session.add(change)
    old_stage = lead.stage
    lead.stage = target_stage.value
    lead.updated_by = actor
    if flush:
        db.session.flush()
    signals.lead_stage_changed.send(lead=lead, old_stage=old_stage, on_date=when, actor=actor)
    return change


def add_activity(lead: Lead, actor: User, kind: str, occurred_on: date, summary: str,
                 next_follow_up_on: date | None = None) -> LeadActivity:
    if occurred_on > clock.today():
        raise LeadError(_("A follow-up cannot be dated in the future; use the next follow-up date."), "occurred_on")
    try:
        check_date(occurred_on, planned=True)
        check_date(next_follow_up_on, planned=True)
        check_text(summary)
    except OutOfRange as exc:
        raise LeadError(str(exc)) from exc
    activity = LeadActivity(kind=kind, occurred_on=occurred_on, summary=summary.strip(),
                            next_follow_up_on=next_follow_up_on, created_by=actor)
    lead.activities.append(activity)
    db.session.flush()
    return activity

"""The rules of chains, nodes, local firms and target companies. They change state and flush;
the request commits (crm.create_app)."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from crm.auth.models import Unit, User
from crm.auth.permissions import can_edit_unit_records
from crm.auth.roles import Permission
from crm.chains.models import (PRIORITY_ORDER, Chain, ChainNode, Intent, LocalEnterprise, Priority, Target,
                               TargetStatus, Tier)
from crm.extensions import db
from crm.leads import services as lead_services
from crm.leads.models import Lead, normalize_company_name
from crm.leads.pipeline import OPEN_STAGES
from crm.validation import OutOfRange, check_amount, check_text


class ChainError(ValueError):
    """A rule was broken; the message says which, in the user's language."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConcurrentTargetEdit(ChainError):
    def __init__(self):
        super().__init__(_("This target was changed by someone else since you opened it. Reload the page "
                           "and make your change again."))


class OtherUnitFollows(ChainError):
    """The company is already a lead of another unit: said by name, and confirmed to go on."""

    def __init__(self, unit: Unit, field: str = "company_name"):
        super().__init__(_("%(unit)s already follows this company as a lead. Tick the confirmation to go "
                           "on anyway.", unit=unit.name), field)
        self.unit = unit


# --- chains and nodes ---------------------------------------------------------------------------
def save_chain(chain: Chain | None, code: str, name: str, position: int, description: str | None) -> Chain:
    for column, value, message in ((Chain.code, code, _("Another chain has this code.")),
                                   (Chain.name, name, _("Another chain has this name."))):
        clash = db.session.scalar(select(Chain).where(column == value))
        if clash is not None and clash is not chain:
            raise ChainError(message, "code" if column is Chain.code else "name")
    if chain is None:
        chain = Chain()
        db.session.add(chain)
    chain.code, chain.name, chain.position, chain.description = code, name, position, description or None
    db.session.flush()
    return chain


def _node_usage(node: ChainNode) -> tuple[int, int]:
    targets = db.session.scalar(select(func.count()).select_from(Target).where(Target.node_id == node.id))
    leads = db.session.scalar(select(func.count()).select_from(Lead).where(Lead.chain_node_id == node.id))
    return targets or 0, leads or 0


def save_node(node: ChainNode | None, chain: Chain, name: str, tier: str, position: int,
              intent: str | None, note: str | None) -> ChainNode:
    """Create or change a node. Moving a node to another chain is refused while targets or leads
    point at it: they were recorded for the old chain, and would silently change chain."""
    if tier not in {t.value for t in Tier}:
        raise ChainError(_("Choose upstream, midstream or downstream."), "tier")
    if intent and intent not in {i.value for i in Intent}:
        raise ChainError(_("Unknown intent."), "intent")
    if node is not None and node.chain_id != chain.id:
        targets, leads = _node_usage(node)
        if targets or leads:
            raise ChainError(_("%(node)s cannot move to another chain: %(targets)d target companies and "
                               "%(leads)d leads point at it. Move or drop them first, or add a new node to "
                               "the other chain.", node=node.name, targets=targets, leads=leads), "chain_id")
    clash = db.session.scalar(select(ChainNode).where(ChainNode.chain_id == chain.id, ChainNode.name == name))
    if clash is not None and clash is not node:
        raise ChainError(_("This chain already has a node named %(name)s.", name=name), "name")
    if node is None:
        node = ChainNode()
        db.session.add(node)
    node.chain, node.name, node.tier, node.position = chain, name, tier, position
    node.intent, node.note = intent or None, note or None
    db.session.flush()
    return node


def delete_node(node: ChainNode) -> None:
    targets, leads = _node_usage(node)
    if targets or leads:
        raise ChainError(_("%(node)s cannot be deleted: %(targets)d target companies and %(leads)d leads "
                           "point at it.", node=node.name, targets=targets, leads=leads))
    db.session.delete(node)
    db.session.flush()


def save_enterprise(firm: LocalEnterprise | None, node: ChainNode, name: str, uscc: str | None,
                    output_wan: Decimal | None, note: str | None) -> LocalEnterprise:
    try:
        output_wan = check_amount(output_wan)
    except OutOfRange as exc:
        raise ChainError(str(exc), "output_wan") from exc
    try:
        check_text(name, 200, one_line=True)
    except OutOfRange as exc:
        raise ChainError(str(exc), "name") from exc
    stmt = select(LocalEnterprise).where(LocalEnterprise.node_id == node.id)
    stmt = stmt.where(or_(LocalEnterprise.name == name, LocalEnterprise.uscc == uscc) if uscc
                      else LocalEnterprise.name == name)
    clash = db.session.scalars(stmt).first()
    if clash is not None and clash is not firm:
        raise ChainError(_("%(name)s is already listed at this node.", name=clash.name), "name")
    if firm is None:
        firm = LocalEnterprise()
        db.session.add(firm)
    firm.node, firm.name, firm.uscc, firm.output_wan, firm.note = node, name, uscc, output_wan, note or None
    db.session.flush()
    return firm


# --- targets ------------------------------------------------------------------------------------
def can_edit_target_unit(user, unit_id: int) -> bool:
    if user.can(Permission.TARGETS_EDIT_ALL):
        return True
    return user.can(Permission.TARGETS_EDIT_UNIT) and user.unit_id == unit_id


def lead_elsewhere(company_name: str, uscc: str | None, unit_id: int) -> Unit | None:
    """Another unit with an open lead for this company: the lead form's rule (crm.leads.names)."""
    return lead_services.unit_following(company_name, uscc, unit_id)


def duplicate_target(node_id: int, company_name: str, uscc: str | None, exclude_id: int | None = None):
    key = normalize_company_name(company_name)
    stmt = select(Target).where(Target.node_id == node_id,
                                or_(Target.company_key == key, Target.uscc == uscc) if uscc
                                else Target.company_key == key)
    if exclude_id:
        stmt = stmt.where(Target.id != exclude_id)
    return db.session.scalars(stmt.limit(1)).first()


def _check_target(data: dict, exclude_id: int | None) -> None:
    try:
        check_text(data["company_name"], 200, one_line=True)
    except OutOfRange as exc:
        raise ChainError(str(exc), "company_name") from exc
    if data["reason"] not in {i.value for i in Intent}:
        raise ChainError(_("Choose fill, extend or strengthen."), "reason")
    if data["priority"] not in {p.value for p in Priority}:
        raise ChainError(_("Choose a priority."), "priority")
    if data["status"] not in {s.value for s in TargetStatus}:
        raise ChainError(_("Unknown status."), "status")
    if db.session.get(ChainNode, data["node_id"]) is None:
        raise ChainError(_("Unknown chain node."), "node_id")
    unit = db.session.get(Unit, data["unit_id"])
    if unit is None or not unit.active:
        raise ChainError(_("Choose an active unit."), "unit_id")
    if data.get("officer_id"):
        officer = db.session.get(User, data["officer_id"])
        if officer is None or officer.unit_id != unit.id or not officer.active:
            raise ChainError(_("The responsible officer must be an active member of the responsible unit."),
                             "officer_id")
    other = duplicate_target(data["node_id"], data["company_name"], data.get("uscc"), exclude_id)
    if other is not None:
        raise ChainError(_("%(name)s is already a target at this node (%(unit)s).",
                           name=other.company_name, unit=other.unit.name), "company_name")


def save_target(target: Target | None, data: dict, actor: User, confirmed: bool = False,
                expected_version: int | None = None) -> Target:
    """Create or change a target. `data`: node_id, company_name, uscc, location, reason, note,
    priority, unit_id, officer_id, status. A converted target keeps its lead and status."""
    if target is not None and expected_version is not None and target.version != expected_version:
        raise ConcurrentTargetEdit()
    data = dict(data)
    if target is not None and target.status == TargetStatus.CONVERTED:
        data["status"] = TargetStatus.CONVERTED.value
    elif data["status"] == TargetStatus.CONVERTED:
        raise ChainError(_("A target becomes a lead with the “Convert to lead” button."), "status")
    _check_target(data, target.id if target else None)
    if target is None or normalize_company_name(data["company_name"]) != target.company_key \
            or (data.get("uscc") or None) != target.uscc:
        other = lead_elsewhere(data["company_name"], data.get("uscc"), data["unit_id"])
        if other is not None and not confirmed:
            raise OtherUnitFollows(other)
    if target is None:
        target = Target()
        db.session.add(target)
    for key in ("node_id", "company_name", "uscc", "location", "reason", "note", "priority", "unit_id",
                "officer_id", "status"):
        setattr(target, key, data.get(key) or None if key in ("uscc", "location", "note", "officer_id")
                else data[key])
    target.company_key = normalize_company_name(target.company_name)
    target.priority_rank = PRIORITY_ORDER[Priority(target.priority)]
    db.session.flush()
    return target


def convert_target(target: Target, actor: User, confirmed: bool = False) -> Lead:
    """Turn a target into a lead of its unit. If the unit already has an open lead for the
    company, the target is linked to it instead of making a second one; if another unit has one,
    the user is told which and must confirm."""
    if target.status == TargetStatus.CONVERTED and target.lead_id:
        raise ChainError(_("This target is already a lead."))
    if target.status == TargetStatus.DROPPED:
        raise ChainError(_("This target was dropped. Set it back to contacted before converting it."))
    if not can_edit_unit_records(actor, target.unit_id):
        raise ChainError(_("Only an officer or team lead of %(unit)s can turn this target into a lead.",
                           unit=target.unit.name))
    own = db.session.scalars(
        select(Lead).where(Lead.owner_unit_id == target.unit_id,
                           Lead.stage.in_([s.value for s in OPEN_STAGES]),
                           or_(Lead.company_key == target.company_key, Lead.uscc == target.uscc)
                           if target.uscc else Lead.company_key == target.company_key)
        .order_by(Lead.id).limit(1)).first()
    if own is None:
        other = lead_elsewhere(target.company_name, target.uscc, target.unit_id)
        if other is not None and not confirmed:
            raise OtherUnitFollows(other)
        node = target.node
        data = {"company_name": target.company_name, "uscc": target.uscc, "chain_id": node.chain_id,
                "chain_node_id": node.id, "origin_region": (target.location or "")[:60] or None,
                "owner_id": target.officer_id, "note": target.note}
        try:
            own = lead_services.create_lead(data, target.unit, actor, confirmed_duplicate=True)
        except lead_services.LeadError as exc:
            raise ChainError(str(exc)) from exc
    target.lead = own
    target.status = TargetStatus.CONVERTED.value
    db.session.flush()
    return own

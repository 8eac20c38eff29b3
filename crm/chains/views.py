"""Industry chains (产业链招商): the chain map with its gaps, nodes and local firms, the target
companies (招商目标企业) and the 招商作战表 export.

Who: everyone who reads chains (officers, team leads, leaders, viewers, admins) sees every
chain, node and target: the 作战表 is the county's shared list of who goes after whom. Lead rows
on a node show only the leads the user may read. Team leads and admins edit chains, nodes and
local firms; officers and team leads add, import, edit and convert their own unit's targets,
admins every unit's (converting needs an officer or team lead of the target's unit).
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import BadRequest
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from crm.auth.models import Unit, User
from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.chains import chart, services
from crm.chains.forms import (ChainForm, ConvertForm, DeleteForm, EnterpriseForm, NodeForm, TargetForm,
                              TargetImportForm)
from crm.chains.importer import import_targets
from crm.chains.models import (PRIORITY_LABELS, TARGET_STATUS_LABELS, TIER_LABELS, Chain, ChainNode,
                               LocalEnterprise, Target, TargetStatus)
from crm.chains.queries import (COVERED, GAP, IN_PROGRESS, chain_gaps, converted_between, lead_reached_between,
                                listed_between, node_figures, ordered_chains)
from crm.extensions import db
from crm.forms import attach_error
from crm.interchange.readers import FileError
from crm.leads.models import Lead, normalize_company_name
from crm.leads.pipeline import Stage
from crm.leads.queries import visible_leads_filter

bp = Blueprint("chains", __name__, url_prefix="/chains")
PAGE_SIZE = 50
COVERAGE_LABELS = {COVERED: _l("Local firms present"), IN_PROGRESS: _l("Leads in progress"), GAP: _l("Gap")}


def _get(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _require_target_unit(unit_id: int) -> None:
    if not services.can_edit_target_unit(current_user, unit_id):
        abort(403)


# --- chains and the map -------------------------------------------------------------------------
@bp.route("/")
@require_permission(Permission.CHAINS_READ)
def index():
    """Every chain with its coverage and gap figures, and the export form."""
    chains = list(db.session.scalars(select(Chain).order_by(Chain.position, Chain.id)
                                     .options(selectinload(Chain.nodes))))
    figures = node_figures()
    gaps = {g.chain.id: g for g in chain_gaps(chains, figures)}
    totals = {c.id: _totals(c.nodes, figures) for c in chains}
    return render_template("chains/index.html", chains=chains, gaps=gaps, totals=totals,
                           units=_units(), priorities=PRIORITY_LABELS, statuses=TARGET_STATUS_LABELS)


def _totals(nodes, figures) -> dict:
    keys = ("firms", "live_leads", "signed", "landed", "targets_total", "targets_open")
    return {k: sum(getattr(figures[n.id], k) for n in nodes if n.id in figures) for k in keys}


def _units():
    return list(db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.kind, Unit.name)))


@bp.route("/<int:chain_id>")
@require_permission(Permission.CHAINS_READ)
def show(chain_id: int):
    """The chain map; ?node=<id> opens that node's firms, targets and leads below it."""
    chain = _get(Chain, chain_id)
    figures = node_figures([chain.id])
    node = None
    node_id = request.args.get("node", type=int)
    if node_id:
        node = db.session.get(ChainNode, node_id)
        if node is None or node.chain_id != chain.id:
            abort(404)
    panel = _node_panel(node) if node else None
    return render_template("chains/show.html", chain=chain, layout=chart.layout(chain.nodes, figures),
                           figures=figures, gaps=chain_gaps([chain], figures)[0], node=node, panel=panel,
                           coverage_labels=COVERAGE_LABELS, tiers=TIER_LABELS)


def _node_panel(node: ChainNode) -> dict:
    targets = db.session.scalars(select(Target).where(Target.node_id == node.id)
                                 .order_by(Target.priority_rank, Target.id)
                                 .options(selectinload(Target.unit), selectinload(Target.officer))).all()
    stmt = (select(Lead).where(Lead.chain_node_id == node.id).order_by(Lead.updated_at.desc()).limit(100)
            .options(selectinload(Lead.owner_unit)))
    visible = visible_leads_filter(current_user)
    if visible is not None:
        stmt = stmt.where(visible)
    total_leads = db.session.scalar(select(func.count()).select_from(Lead).where(Lead.chain_node_id == node.id))
    return {"firms": node.enterprises, "targets": targets, "leads": db.session.scalars(stmt).all(),
            "total_leads": total_leads, "delete_form": DeleteForm()}


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:chain_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.CHAINS_EDIT)
def edit_chain(chain_id: int | None = None):
    """Team leads and admins: create a chain or change its name, code, order and description."""
    chain = _get(Chain, chain_id) if chain_id else None
    form = ChainForm(obj=chain)
    if form.validate_on_submit():
        try:
            chain = services.save_chain(chain, form.code.data.strip(), form.name.data.strip(),
                                        form.position.data or 0, form.description.data)
        except services.ChainError as exc:
            attach_error(form, exc)
        else:
            flash(_("Chain saved."), "success")
            return redirect(url_for("chains.show", chain_id=chain.id))
    return render_template("chains/chain_form.html", form=form, chain=chain), (400 if form.errors else 200)


@bp.route("/<int:chain_id>/nodes/new", methods=["GET", "POST"])
@bp.route("/nodes/<int:node_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.CHAINS_EDIT)
def edit_node(chain_id: int | None = None, node_id: int | None = None):
    """Team leads and admins: add a node, or change it (tier, order, intent; another chain only
    while no target or lead points at it)."""
    node = _get(ChainNode, node_id) if node_id else None
    chain = node.chain if node else _get(Chain, chain_id)
    form = NodeForm(obj=node, chain_id=chain.id)
    form.chain_id.choices = [(c.id, c.name) for c in ordered_chains()]
    if form.validate_on_submit():
        target_chain = _get(Chain, form.chain_id.data)
        try:
            node = services.save_node(node, target_chain, form.name.data.strip(), form.tier.data,
                                      form.position.data or 0, form.intent.data, form.note.data)
        except services.ChainError as exc:
            attach_error(form, exc)
        else:
            flash(_("Node saved."), "success")
            return redirect(url_for("chains.show", chain_id=node.chain_id, node=node.id))
    return (render_template("chains/node_form.html", form=form, chain=chain, node=node),
            400 if form.errors else 200)


@bp.route("/nodes/<int:node_id>/delete", methods=["POST"])
@require_permission(Permission.CHAINS_EDIT)
def delete_node(node_id: int):
    """Team leads and admins; refused while targets or leads point at the node."""
    node = _get(ChainNode, node_id)
    chain_id = node.chain_id
    if not DeleteForm().validate_on_submit():
        abort(400)
    try:
        services.delete_node(node)
    except services.ChainError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("chains.show", chain_id=chain_id, node=node_id))
    flash(_("Node deleted."), "success")
    return redirect(url_for("chains.show", chain_id=chain_id))


@bp.route("/nodes/<int:node_id>/firms/new", methods=["GET", "POST"])
@bp.route("/firms/<int:firm_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.CHAINS_EDIT)
def edit_firm(node_id: int | None = None, firm_id: int | None = None):
    """Team leads and admins: a local firm at a node (name, USCC, output)."""
    firm = _get(LocalEnterprise, firm_id) if firm_id else None
    node = firm.node if firm else _get(ChainNode, node_id)
    form = EnterpriseForm(obj=firm)
    if form.validate_on_submit():
        try:
            services.save_enterprise(firm, node, form.name.data.strip(), form.uscc.data, form.output_wan.data,
                                     form.note.data)
        except services.ChainError as exc:
            attach_error(form, exc)
        else:
            flash(_("Local firm saved."), "success")
            return redirect(url_for("chains.show", chain_id=node.chain_id, node=node.id))
    return (render_template("chains/firm_form.html", form=form, node=node, firm=firm),
            400 if form.errors else 200)


@bp.route("/firms/<int:firm_id>/delete", methods=["POST"])
@require_permission(Permission.CHAINS_EDIT)
def delete_firm(firm_id: int):
    """Team leads and admins."""
    firm = _get(LocalEnterprise, firm_id)
    node = firm.node
    if not DeleteForm().validate_on_submit():
        abort(400)
    db.session.delete(firm)
    db.session.flush()
    flash(_("Local firm removed."), "success")
    return redirect(url_for("chains.show", chain_id=node.chain_id, node=node.id))


# --- targets ------------------------------------------------------------------------------------
# The cockpit's links (the 作战表's conversion): county-local days, and a stage the target's lead reached.
DATE_FILTERS = ("listed_from", "listed_to", "converted_from", "converted_to", "reached_from", "reached_to")


def _target_filters() -> dict:
    args = request.args
    f = {"chain": args.get("chain", type=int), "node": args.get("node", type=int),
         "priority": args.get("priority") or "", "unit": args.get("unit", type=int),
         "status": args.get("status") or "", "q": (args.get("q") or "").strip()[:100]}
    for name in DATE_FILTERS:
        raw = (args.get(name) or "").strip()
        try:
            f[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise BadRequest(_("The list's link is damaged (%(name)s). Open it again from the cockpit.",
                               name=name)) from None
    reached = args.get("reached") or ""
    if reached and reached not in {s.value for s in Stage}:
        raise BadRequest(_("The list's link is damaged (%(name)s). Open it again from the cockpit.", name="reached"))
    f["reached"] = reached
    return f


def _cockpit_filters(stmt, f: dict):
    if f["listed_from"] or f["listed_to"]:
        stmt = stmt.where(listed_between(f["listed_from"], f["listed_to"]))
    if f["converted_from"] or f["converted_to"]:
        stmt = stmt.where(converted_between(f["converted_from"], f["converted_to"]))
    if f["reached"]:
        stmt = stmt.where(lead_reached_between(f["reached"], f["reached_from"], f["reached_to"]))
    return stmt


@bp.route("/targets")
@require_permission(Permission.CHAINS_READ)
def targets():
    """The target list with filters (chain, node, priority, unit, status, name), 50 a page."""
    f = _target_filters()
    stmt = select(Target).join(ChainNode, ChainNode.id == Target.node_id)
    if f["chain"]:
        stmt = stmt.where(ChainNode.chain_id == f["chain"])
    if f["node"]:
        stmt = stmt.where(Target.node_id == f["node"])
    if f["priority"]:
        stmt = stmt.where(Target.priority == f["priority"])
    if f["unit"]:
        stmt = stmt.where(Target.unit_id == f["unit"])
    if f["status"]:
        stmt = stmt.where(Target.status == f["status"])
    if f["q"]:
        key = normalize_company_name(f["q"])
        stmt = stmt.where(or_(Target.company_key.contains(key, autoescape=True), Target.uscc == f["q"].upper()))
    stmt = _cockpit_filters(stmt, f)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.session.scalars(
        stmt.order_by(Target.priority_rank, Target.updated_at.desc(), Target.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        .options(selectinload(Target.node).selectinload(ChainNode.chain), selectinload(Target.unit),
                 selectinload(Target.officer))).all()
    chains = ordered_chains()
    nodes = (db.session.scalars(select(ChainNode).where(ChainNode.chain_id == f["chain"])
                                .order_by(ChainNode.position)).all() if f["chain"] else [])
    return render_template("chains/targets.html", targets=rows, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), f=f, chains=chains, nodes=nodes,
                           units=_units(), priorities=PRIORITY_LABELS, statuses=TARGET_STATUS_LABELS)


def _node_choices():
    rows = db.session.execute(select(ChainNode.id, ChainNode.name, Chain.name, ChainNode.tier)
                              .join(Chain, Chain.id == ChainNode.chain_id)
                              .order_by(Chain.position, Chain.id, ChainNode.position, ChainNode.id))
    return [(None, "—")] + [(nid, f"{chain} · {name}") for nid, name, chain, _tier in rows]


def _unit_choices():
    units = _units() if current_user.can(Permission.TARGETS_EDIT_ALL) else [current_user.unit]
    return [(u.id, u.name) for u in units]


def _officer_choices(unit_id: int | None):
    if not unit_id:
        return [(None, "—")]
    users = db.session.scalars(select(User).where(User.unit_id == unit_id, User.active)
                               .order_by(User.full_name, User.username))
    return [(None, "—")] + [(u.id, u.display_name) for u in users]


def _target_form(target: Target | None) -> TargetForm:
    form = TargetForm(obj=target)
    if target is None and request.method == "GET":
        form.node_id.data = request.args.get("node", type=int)
        form.unit_id.data = current_user.unit_id
        node = db.session.get(ChainNode, form.node_id.data) if form.node_id.data else None
        if node is not None and node.intent:
            form.reason.data = node.intent
    if target is not None and request.method == "GET":
        form.version.data = target.version
    form.node_id.choices = _node_choices()
    form.unit_id.choices = _unit_choices()
    form.officer_id.choices = _officer_choices(form.unit_id.data or current_user.unit_id)
    return form


@bp.route("/targets/new", methods=["GET", "POST"])
@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.TARGETS_EDIT_UNIT, Permission.TARGETS_EDIT_ALL)
def edit_target(target_id: int | None = None):
    """Officers and team leads for their own unit, admins for any unit."""
    target = _get(Target, target_id) if target_id else None
    if target is not None:
        _require_target_unit(target.unit_id)
    form = _target_form(target)
    if target is not None and target.status == TargetStatus.CONVERTED:
        form.status.choices = [(TargetStatus.CONVERTED.value, TARGET_STATUS_LABELS[TargetStatus.CONVERTED])]
    duplicate = False
    if form.validate_on_submit():
        _require_target_unit(form.unit_id.data)
        data = {k: getattr(form, k).data for k in ("node_id", "company_name", "uscc", "location", "reason",
                                                    "note", "priority", "unit_id", "officer_id", "status")}
        data["company_name"] = data["company_name"].strip()
        try:
            target = services.save_target(target, data, current_user, form.confirm_duplicate.data,
                                          expected_version=int(form.version.data) if form.version.data else None)
        except services.ConcurrentTargetEdit as exc:
            flash(exc.message, "danger")
            return render_template("chains/target_form.html", form=form, target=target, duplicate=False), 409
        except services.ChainError as exc:
            duplicate = isinstance(exc, services.OtherUnitFollows)
            attach_error(form, exc)
        else:
            flash(_("Target saved."), "success")
            return redirect(url_for("chains.show_target", target_id=target.id))
    return (render_template("chains/target_form.html", form=form, target=target, duplicate=duplicate),
            400 if form.errors else 200)


@bp.route("/targets/<int:target_id>")
@require_permission(Permission.CHAINS_READ)
def show_target(target_id: int):
    """Everyone who reads chains; the lead link opens only for those who may read the lead."""
    target = _get(Target, target_id)
    lead_visible = False
    if target.lead is not None:
        visible = visible_leads_filter(current_user)
        lead_visible = visible is None or bool(db.session.scalar(
            select(func.count()).select_from(Lead).where(Lead.id == target.lead_id, visible)))
    return render_template("chains/target.html", target=target, lead_visible=lead_visible,
                           can_edit=services.can_edit_target_unit(current_user, target.unit_id),
                           convert_form=ConvertForm(), duplicate=False)


@bp.route("/targets/<int:target_id>/convert", methods=["POST"])
@require_permission(Permission.TARGETS_EDIT_UNIT, Permission.TARGETS_EDIT_ALL)
def convert_target(target_id: int):
    """One click: the target becomes a lead of its unit (duplicates checked as on import)."""
    target = _get(Target, target_id)
    _require_target_unit(target.unit_id)
    form = ConvertForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        lead = services.convert_target(target, current_user, form.confirm_duplicate.data)
    except services.ChainError as exc:
        flash(exc.message, "danger")
        duplicate = isinstance(exc, services.OtherUnitFollows)
        return render_template("chains/target.html", target=target, lead_visible=False, can_edit=True,
                               convert_form=form, duplicate=duplicate), 409
    flash(_("The target is now lead %(name)s.", name=lead.company_name), "success")
    return redirect(url_for("leads.show", lead_id=lead.id))


@bp.route("/targets/import", methods=["GET", "POST"])
@require_permission(Permission.TARGETS_EDIT_UNIT, Permission.TARGETS_EDIT_ALL)
def import_target_list():
    """Upload an .xlsx/.csv target list: every row is checked, and either all go in or none."""
    form = TargetImportForm()
    result = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = import_targets(upload, upload.filename or "upload", current_user)
        except FileError as exc:
            form.file.errors = list(form.file.errors) + [str(exc)]
        else:
            if result.problems:
                db.session.rollback()
                status = 422
            else:
                flash(_("%(n)d targets imported.", n=result.imported), "success")
                return redirect(url_for("chains.targets"))
    if form.errors:
        status = 400
    return render_template("chains/import.html", form=form, result=result), status


@bp.route("/export")
@require_permission(Permission.CHAINS_READ)
def export():
    """The 招商作战表: ?chain=&priority=&unit=&status= (each repeatable) &format=xlsx|csv."""
    from crm.chains.export import FilterError, export_response, filters_from_args

    fmt = request.args.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        abort(400)
    try:
        filters = filters_from_args(request.args)
    except FilterError as exc:
        error = BadRequest(str(exc))
        error.crm_message = str(exc)
        raise error
    return export_response(filters, fmt, "招商作战表")


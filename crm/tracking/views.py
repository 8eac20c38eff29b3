"""Pages of a tracked project and of a unit's tracking desk; each section is a panel that a
tracking feature registered (crm.tracking.panels)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from crm.auth.models import Unit
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.chains.models import Chain
from crm.extensions import db
from crm.forms import attach_error
from crm.leads.pipeline import stage_label
from crm.lights.models import COLOUR_LABELS, Colour
from crm.tracking import queries, services
from crm.tracking.access import can_open_unit_page, is_tracked, project_or_404
from crm.tracking.core_panels import agreement_form, bound_form
from crm.tracking.forms import ActualForm, AgreementForm, InvestmentForm
from crm.tracking.panels import panels_for

bp = Blueprint("tracking", __name__)
READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)


@bp.route("/projects/<int:lead_id>")
@require_permission(*READ)
def project(lead_id: int):
    """Readers of the owner unit's leads (officers and team leads of the unit, leaders, viewers, admins)."""
    lead = project_or_404(lead_id)
    if not is_tracked(lead):
        abort(404)
    user = acting_user()
    return render_template("tracking/project.html", lead=lead, panels=panels_for("project", lead, user))


@bp.route("/units/<int:unit_id>/desk")
@require_permission(Permission.LEADS_READ_ALL, Permission.TRACKING_RESPOND)
def unit_desk(unit_id: int):
    """A unit's letters to acknowledge and answer and its problems to solve: its own members
    who respond (officers, team leads, department liaisons), and county-wide readers."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    user = acting_user()
    if not can_open_unit_page(user, unit.id):
        abort(403)
    return render_template("tracking/unit.html", unit=unit, panels=panels_for("unit", unit, user))


# --- the tracking core: project list, agreement, actual dates, 到资 ---------------------------------
# (Rules in crm.tracking.services, reading in crm.tracking.queries; a refused change shows its form
# again in its panel with the message, status 400, and nothing is written.)
EDIT = Permission.LEADS_EDIT_UNIT


def _tracked_or_404(lead_id: int, write: bool = False):
    lead = project_or_404(lead_id, write=write)
    if not is_tracked(lead):
        abort(404)
    return lead


def _project_again(lead_id: int, status: int = 400):
    lead = _tracked_or_404(lead_id)
    return render_template("tracking/project.html", lead=lead,
                           panels=panels_for("project", lead, acting_user())), status


@bp.route("/projects")
@require_permission(*READ)
def projects():
    """Officers and team leads: their unit's projects; leaders, viewers, admins: all."""
    filters = queries.ProjectFilters.from_args(request.args)
    if filters.errors:
        abort(400)
    rows, total = queries.project_page(acting_user(), filters)
    pages = max(1, -(-total // filters.per_page))
    return render_template(
        "tracking/projects.html", rows=rows, total=total, filters=filters, pages=pages,
        units=db.session.scalars(select(Unit).order_by(Unit.name)).all(),
        chains=db.session.scalars(select(Chain).order_by(Chain.name)).all(),
        stages=[(s, stage_label(s)) for s in queries.TRACKED_STAGES],
        colours=[(c.value, COLOUR_LABELS[c]) for c in Colour])


@bp.route("/projects/export")
@require_permission(*READ)
def projects_export():
    """The same readers and filters as /projects, as an .xlsx with Chinese headers."""
    from crm.tracking.project_export import export_response

    filters = queries.ProjectFilters.from_args(request.args)
    if filters.errors:
        abort(400)
    return export_response(acting_user(), filters)


@bp.route("/projects/<int:lead_id>/agreement")
@require_permission(EDIT)
def agreement(lead_id: int):
    """The agreement form on its own page: officers and team leads of the owner unit."""
    lead = _tracked_or_404(lead_id, write=True)
    return render_template("tracking/agreement.html", lead=lead, form=agreement_form(lead),
                           agreement=services.agreement_of(lead.id))


@bp.route("/projects/<int:lead_id>/agreement", methods=["POST"])
@require_permission(EDIT)
def save_agreement(lead_id: int):
    """Officers and team leads of the owner unit."""
    lead = _tracked_or_404(lead_id, write=True)
    form = AgreementForm()
    if form.validate_on_submit():
        try:
            services.save_agreement(lead, form.values(), acting_user(), form.version.data, form.plans(),
                                    form.reason.data)
        except (services.ConcurrentAgreementEdit, StaleDataError):
            db.session.rollback()
            flash(_("The agreement was changed by someone else since you opened it. Reload the page and make "
                    "your changes again."), "danger")
            bound_form("agreement", form)
            return _project_again(lead_id, 409)
        except services.TrackingError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Agreement saved."), "success")
            return redirect(url_for("tracking.project", lead_id=lead_id) + "#agreement")
    bound_form("agreement", form)
    return _project_again(lead_id)


@bp.route("/projects/<int:lead_id>/milestones", methods=["POST"])
@require_permission(EDIT)
def record_actual(lead_id: int):
    """Officers and team leads of the owner unit: the day a milestone was reached (the stage follows)."""
    lead = _tracked_or_404(lead_id, write=True)
    form = ActualForm()
    if form.validate_on_submit():
        try:
            services.record_actual(lead, form.milestone.data, form.actual_on.data, acting_user(), form.note.data)
        except StaleDataError:
            db.session.rollback()
            flash(_("The record was changed by someone else. Reload and try again."), "danger")
            return _project_again(lead_id, 409)
        except services.TrackingError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Actual date recorded."), "success")
            return redirect(url_for("tracking.project", lead_id=lead_id) + "#milestones")
    bound_form("actual", form)
    return _project_again(lead_id)


@bp.route("/projects/<int:lead_id>/investments", methods=["POST"])
@require_permission(EDIT)
def add_investment(lead_id: int):
    """Officers and team leads of the owner unit: an amount of investment actually made (到资)."""
    lead = _tracked_or_404(lead_id, write=True)
    form = InvestmentForm()
    if form.validate_on_submit():
        try:
            services.add_investment(lead, form.amount_wan.data, form.paid_on.data, acting_user(), form.note.data,
                                    confirm_over_total=form.confirm_over_total.data)
        except services.TrackingError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Investment recorded."), "success")
            return redirect(url_for("tracking.project", lead_id=lead_id) + "#investment")
    bound_form("investment", form)
    return _project_again(lead_id)

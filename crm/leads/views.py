"""Lead pages. Officers/team leads: their own unit's leads (read and write); leaders, viewers
and admins: every lead, read only."""
from __future__ import annotations


from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from crm import clock
from crm.audit.models import AuditEntry
from crm.audit.words import describe
from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.contacts.panel import contacts_panel
from crm.extensions import db
from crm.forms import attach_error
from crm.leads import services
from crm.leads.forms import ActivityForm, LeadForm, StageForm, fill_lead_choices
from crm.leads.models import SOURCE_KIND_LABELS, Lead, Source
from crm.leads.pipeline import STAGE_LABELS, TRANSITIONS, Stage, stage_names
from crm.request_guard import refuse
from crm.leads.list_rows import list_page
from crm.leads.queries import SORTS, LeadFilters, get_lead_or_404

bp = Blueprint("leads", __name__, url_prefix="/leads")

READ = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)


@bp.route("")
@require_permission(*READ)
def index():
    """Officers/team leads: own unit; leaders, viewers, admins: all units."""
    filters = LeadFilters.from_args(request.args)
    if "cursor" in filters.errors:
        refuse(_("The page link is out of date or damaged. Open the list again."))
    page, (chains, units, owners) = list_page(current_user, filters, per_page=50)
    source_name = db.session.scalar(select(Source.name).where(Source.id == filters.source_id)) if filters.source_id else None
    return render_template("leads/index.html", page=page, filters=filters, chains=chains, source_name=source_name,
                           lead_no=_("Lead No. %(n)s", n="%s"),  # plain text: formatted per row cheaply
                           units=units, owners=owners,
                           stage_names=stage_names(),
                           source_kinds=SOURCE_KIND_LABELS, sorts=SORTS)


@bp.route("/new", methods=["GET", "POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def create():
    """Officers and team leads, for their own unit."""
    form = LeadForm()
    fill_lead_choices(form, current_user.unit_id, current_user)
    if request.method == "GET":
        form.created_on.data = clock.today()
        form.owner_id.data = current_user.id
    if form.validate_on_submit():
        contact = form.first_contact()
        try:
            lead = services.create_lead(form.lead_data(), current_user.unit, current_user,
                                        confirmed_duplicate=form.confirm_duplicate.data,
                                        contacts=[contact] if contact else ())
        except services.LeadError as exc:
            if exc.field and getattr(exc, "index", None) is not None:  # the contact's (crm.contacts)
                exc.field = f"contact_{exc.field}"
            attach_error(form, exc)
        else:
            flash(_("Lead saved."), "success")
            return redirect(url_for("leads.show", lead_id=lead.id))
    return render_template("leads/form.html", form=form, lead=None), (400 if request.method == "POST" else 200)


def _render_show(lead: Lead, stage_form: StageForm | None = None,
                 activity_form: ActivityForm | None = None, status: int = 200, contact_form=None,
                 contact_id: int | None = None):
    """The lead page; `contact_form` (with `contact_id`, None for a new one) is a contact form
    refused, shown again with its messages."""
    can_edit = current_user.can(Permission.LEADS_EDIT_UNIT) and current_user.unit_id == lead.owner_unit_id
    stage_form = stage_form or StageForm(version=lead.version)
    stage_form.version.data = lead.version
    stage_form.to_stage.choices = [(s.value, STAGE_LABELS[s]) for s in TRANSITIONS[Stage(lead.stage)]]
    activity_form = activity_form or ActivityForm(occurred_on=clock.today())
    history = describe(db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "leads",
                                                                   AuditEntry.entity_id == lead.id)
                                          .order_by(AuditEntry.id.desc()).limit(100)).all(), current_user)
    from crm.screening.queries import can_submit_lead, returned_materials
    from crm.screening.services import SUBMITTABLE, cases_for_lead
    from crm.chains.queries import targets_for_lead

    from crm.scoring.models import LeadScore

    scores = db.session.scalars(select(LeadScore).where(LeadScore.lead_id == lead.id)
                                .order_by(LeadScore.scored_at.desc(), LeadScore.id.desc()).limit(20)).all()
    return render_template("leads/show.html", lead=lead, can_edit=can_edit, stage_form=stage_form,
                           activity_form=activity_form, history=history, scores=scores,
                           contacts=contacts_panel(lead, current_user, can_edit, contact_form, contact_id),
                           screening_cases=cases_for_lead(lead.id), chain_targets=targets_for_lead(lead.id),
                           missing_materials=returned_materials(lead),
                           can_submit=can_submit_lead(current_user, lead) and lead.stage in SUBMITTABLE), status


@bp.route("/<int:lead_id>")
@require_permission(*READ)
def show(lead_id: int):
    """Officers/team leads of the owning unit; leaders, viewers, admins."""
    return _render_show(get_lead_or_404(lead_id))


@bp.route("/<int:lead_id>/edit", methods=["GET", "POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def edit(lead_id: int):
    """Officers and team leads of the owning unit. Saving a stale form is refused (409)."""
    lead = get_lead_or_404(lead_id, write=True)
    form = LeadForm(obj=lead)
    fill_lead_choices(form, lead.owner_unit_id, current_user)
    if request.method == "GET":
        form.version.data = lead.version
    status = 200
    if form.validate_on_submit():
        try:
            services.update_lead(lead, form.lead_data(), current_user, form.version.data,
                                 confirmed_duplicate=form.confirm_duplicate.data)
        except services.ConcurrentEditError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return render_template("leads/form.html", form=form, lead=lead, conflict=True), 409
        except StaleDataError:
            db.session.rollback()
            lead = db.session.get(Lead, lead_id)
            flash(str(services.ConcurrentEditError(lead)), "danger")
            return render_template("leads/form.html", form=form, lead=lead, conflict=True), 409
        except services.LeadError as exc:
            attach_error(form, exc)
        else:
            flash(_("Lead saved."), "success")
            return redirect(url_for("leads.show", lead_id=lead.id))
    if request.method == "POST":
        status = 400
    return render_template("leads/form.html", form=form, lead=lead), status


@bp.route("/<int:lead_id>/stage", methods=["POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def change_stage(lead_id: int):
    """Officers and team leads of the owning unit, along the allowed moves of the pipeline."""
    lead = get_lead_or_404(lead_id, write=True)
    form = StageForm()
    form.to_stage.choices = [(s.value, STAGE_LABELS[s]) for s in Stage]
    if form.validate_on_submit():
        try:
            services.change_stage(lead, form.to_stage.data, current_user, form.reason.data,
                                  form.on_date.data, form.version.data)
        except (services.ConcurrentEditError, StaleDataError):
            db.session.rollback()
            lead = db.session.get(Lead, lead_id)
            flash(str(services.ConcurrentEditError(lead)), "danger")
            return _render_show(lead, stage_form=form, status=409)
        except services.LeadError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Stage changed to %(stage)s.", stage=lead.stage_label), "success")
            return redirect(url_for("leads.show", lead_id=lead.id))
    return _render_show(db.session.get(Lead, lead_id), stage_form=form, status=400)


@bp.route("/<int:lead_id>/activities", methods=["POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def add_activity(lead_id: int):
    """Officers and team leads of the owning unit."""
    lead = get_lead_or_404(lead_id, write=True)
    form = ActivityForm()
    if form.validate_on_submit():
        try:
            services.add_activity(lead, current_user, form.kind.data, form.occurred_on.data,
                                  form.summary.data, form.next_follow_up_on.data)
        except services.LeadError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Follow-up recorded."), "success")
            return redirect(url_for("leads.show", lead_id=lead.id))
    return _render_show(db.session.get(Lead, lead_id), activity_form=form, status=400)

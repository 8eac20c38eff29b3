"""Routes of the tracking blueprint for steps (registered on crm.tracking.views.bp): the step
catalogue, a step reached on a project, the points ranking, and the tracking settings."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from crm import clock
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.forms import attach_error
from crm.tracking import steps
from crm.tracking.access import is_tracked, project_or_404
from crm.tracking.models import StepDefinition
from crm.tracking.settings import SETTING_FIELDS, peek_settings, save_settings
from crm.tracking.step_forms import ReachStepForm, StepDefinitionForm, TrackingSettingsForm
from crm.tracking.views import bp


def _catalogue_page(form: StepDefinitionForm, status: int = 200):
    return render_template("tracking/steps.html", catalogue=steps.catalogue(), form=form), status


@bp.route("/tracking/steps", methods=["GET", "POST"])
@require_permission(Permission.TRACKING_SETTINGS)
def step_catalogue():
    """Admins: the 23-step catalogue (将乐); add a step."""
    form = StepDefinitionForm()
    if request.method == "GET":
        form.position.data = steps.next_position()
        form.active.data = True
        return _catalogue_page(form)
    if form.validate_on_submit():
        try:
            step = steps.add_step(form.name.data, form.phase.data, form.points.data, form.position.data,
                                  form.evidence_required.data)
        except steps.StepError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Step “%(name)s” added.", name=step.name), "success")
            return redirect(url_for("tracking.step_catalogue"))
    return _catalogue_page(form, 400)


@bp.route("/tracking/steps/<int:step_id>", methods=["GET", "POST"])
@require_permission(Permission.TRACKING_SETTINGS)
def edit_step(step_id: int):
    """Admins: edit or retire one step (points already earned keep their value)."""
    step = db.session.get(StepDefinition, step_id)
    if step is None:
        abort(404)
    form = StepDefinitionForm(obj=step)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                steps.update_step(step, form.name.data, form.phase.data, form.points.data, form.position.data,
                                  form.evidence_required.data, form.active.data)
            except steps.StepError as exc:
                db.session.rollback()
                attach_error(form, exc)
            else:
                flash(_("Step saved."), "success")
                return redirect(url_for("tracking.step_catalogue"))
        status = 400
    return render_template("tracking/steps_edit.html", step=step, form=form), status


@bp.route("/projects/<int:lead_id>/steps", methods=["POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def reach_step(lead_id: int):
    """The owner unit (officers, team leads): record a step reached, with its evidence."""
    lead = project_or_404(lead_id, write=True)
    if not is_tracked(lead):
        abort(404)
    form = ReachStepForm(prefix="step")
    form.step_id.choices = [(s.id, s.name) for s in steps.catalogue(active_only=True)]
    target = url_for("tracking.project", lead_id=lead.id) + "#steps"
    if not form.validate_on_submit():
        errors = [e for field in form for e in field.errors]
        flash(" ".join(str(e) for e in errors) or _("Nothing was recorded: check the form."), "danger")
        return redirect(target), 303
    upload = form.evidence.data
    evidence = (upload.stream, upload.filename) if upload and getattr(upload, "filename", "") else None
    try:
        record = steps.record_step(lead, form.step_id.data, form.reached_on.data, form.note.data, acting_user(),
                                   evidence)
    except steps.StepError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(target), 303
    flash(_("Step “%(name)s” recorded: %(points)s points for %(unit)s.", name=record.step.name,
            points=record.points, unit=record.unit.name), "success")
    return redirect(target)


@bp.route("/tracking/points")
@require_permission(Permission.LEADS_READ_ALL, Permission.LEADS_ASSIGN)
def points():
    """Units ranked by step points in a month: county-wide readers (leaders, viewers, admins) see
    every unit; team leads see their own unit."""
    user = acting_user()
    start, end = steps.month_range(request.args.get("month"), clock.today())
    own = None if user.can(Permission.LEADS_READ_ALL) else user.unit_id
    return render_template("tracking/steps_points.html", rows=steps.ranking(start, end, own), start=start, end=end,
                           month=start.strftime("%Y-%m"), own=own)


@bp.route("/tracking/settings", methods=["GET", "POST"])
@require_permission(Permission.TRACKING_SETTINGS)
def tracking_settings():
    """Admins: the thresholds of the light, the letters and the efficiency rules."""
    form = TrackingSettingsForm(obj=peek_settings())
    if request.method == "POST":
        if form.validate_on_submit():
            save_settings({key: getattr(form, key).data for key in SETTING_FIELDS})
            flash(_("Tracking settings saved."), "success")
            return redirect(url_for("tracking.tracking_settings"))
        return render_template("tracking/settings.html", form=form), 400
    return render_template("tracking/settings.html", form=form)

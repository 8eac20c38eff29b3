"""Routes of the tracking blueprint for results (registered on crm.tracking.views.bp): a year's
output and tax typed in on the project page, and the tax bureau's sheet (upload → preview → confirm)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.interchange.readers import FileError
from crm.storage import storage
from crm.tracking import results, results_import
from crm.tracking.access import is_tracked, project_or_404
from crm.tracking.results_forms import SheetConfirmForm, SheetUploadForm, YearlyResultForm
from crm.tracking.views import bp


@bp.route("/projects/<int:lead_id>/results", methods=["POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def put_result(lead_id: int):
    """The owner unit (officers, team leads): a year's output and tax of a producing project."""
    lead = project_or_404(lead_id, write=True)
    if not is_tracked(lead):
        abort(404)
    form = YearlyResultForm(prefix="result")
    target = url_for("tracking.project", lead_id=lead.id) + "#results"
    if not form.validate_on_submit():
        flash(" ".join(str(e) for field in form for e in field.errors) or _("Nothing was recorded: check the form."), "danger")
        return redirect(target), 303
    try:
        row, replaced = results.put_result(lead, form.year.data, form.output_wan.data, form.tax_wan.data,
                                           acting_user())
    except results.ResultError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(target), 303
    flash(_("The results of %(year)s were replaced.", year=row.year) if replaced
          else _("The results of %(year)s were recorded.", year=row.year), "success")
    return redirect(target)


@bp.route("/tracking/results/import", methods=["GET", "POST"])
@require_permission(Permission.TRACKING_IMPORT)
def import_results():
    """Admins: upload the tax bureau's sheet; the preview lists what would be written or replaced
    and every rejected row with why."""
    form = SheetUploadForm()
    if not form.validate_on_submit():
        return render_template("tracking/results_import.html", form=form, report=None), \
            (400 if form.is_submitted() else 200)
    upload = form.file.data
    try:
        token, key = results_import.keep_upload(upload, upload.filename)
        with storage().local_path(key) as path:
            report = results_import.check_sheet(path, upload.filename)
    except FileError as exc:
        form.file.errors = [str(exc)]
        return render_template("tracking/results_import.html", form=form, report=None), 400
    confirm = SheetConfirmForm(token=token) if report.ok else None
    return render_template("tracking/results_import.html", form=form, report=report, confirm=confirm,
                           filename=upload.filename)


@bp.route("/tracking/results/import/confirm", methods=["POST"])
@require_permission(Permission.TRACKING_IMPORT)
def confirm_import_results():
    """Admins: write the previewed sheet (checked again; with any rejected row nothing is written)."""
    form = SheetConfirmForm()
    key = results_import.kept_upload(form.token.data) if form.validate_on_submit() else None
    if key is None:
        flash(_("The uploaded sheet is no longer available; upload it again."), "danger")
        return redirect(url_for("tracking.import_results")), 303
    try:
        with storage().local_path(key) as path:
            report = results_import.apply_sheet(path, key.rsplit("/", 1)[1], acting_user())
    except FileError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("tracking.import_results")), 303
    if not report.written:
        db.session.rollback()
        return render_template("tracking/results_import.html", form=SheetUploadForm(), report=report,
                               confirm=None, filename=""), 409
    storage().delete(key)
    flash(_("%(n)s yearly results imported (%(r)s replaced).", n=report.written, r=report.replaced), "success")
    return redirect(url_for("tracking.import_results"))

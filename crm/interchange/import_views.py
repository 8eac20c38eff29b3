"""Import pages: upload → preview (mapping, errors, duplicates, new sources/units) → confirm →
progress → result with the report of rejected rows and undo. Officers and team leads import
into their own unit; administrators into any unit."""
from __future__ import annotations

import io

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from crm.auth.models import UNIT_KIND_LABELS, Unit
from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.database import begin_writing
from crm.extensions import db
from crm.interchange import bp, importer, previews, services
from crm.interchange.forms import ConfirmForm, UploadForm
from crm.chains.models import TIER_LABELS
from crm.interchange.models import PENDING, ImportBatch, ImportStatus
from crm.interchange.readers import FileError


def _get_batch(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    if not (current_user.can(Permission.LEADS_READ_ALL) or batch.unit_id == current_user.unit_id):
        abort(403)
    return batch


def _unit_choices():
    if current_user.can(Permission.LEADS_READ_ALL):
        return [(u.id, u.name) for u in db.session.scalars(select(Unit).order_by(Unit.kind, Unit.name))]
    return [(current_user.unit_id, current_user.unit.name)]


@bp.route("/imports")
@require_permission(Permission.LEADS_IMPORT)
def imports():
    """Importers: the imports of their unit (administrators: all), newest first."""
    stmt = select(ImportBatch).order_by(ImportBatch.id.desc()).limit(100)
    if not current_user.can(Permission.LEADS_READ_ALL):
        stmt = stmt.where(ImportBatch.unit_id == current_user.unit_id)
    return render_template("interchange/imports.html", batches=db.session.scalars(stmt).all())


@bp.route("/imports/new", methods=["GET", "POST"])
@require_permission(Permission.LEADS_IMPORT)
def upload():
    """Importers: upload a file; it is checked and previewed before anything is imported."""
    form = UploadForm()
    form.unit_id.choices = _unit_choices()
    if request.method == "GET":
        form.unit_id.data = current_user.unit_id
    if request.method == "POST" and request.form.get("history") and not importer.can_import_history(current_user):
        abort(403)  # the historical ledger import is an administrator's
    if form.validate_on_submit():
        unit = db.session.get(Unit, form.unit_id.data)
        try:
            # The preview lists what the file names and nobody has; team leads and administrators
            # create it by confirming (officers import only into what exists).
            batch = services.store_upload(form.file.data.stream, form.file.data.filename, current_user,
                                          unit, form.mode.data, history=bool(form.history.data),
                                          create_missing=importer.can_create_references(current_user))
        except services.ImportError_ as exc:
            form.file.errors.append(str(exc))
        else:
            return redirect(url_for("interchange.show_import", batch_id=batch.id))
    return render_template("interchange/upload.html", form=form,
                           may_import_history=importer.can_import_history(current_user)), (400 if form.errors else 200)


@bp.route("/imports/<int:batch_id>")
@require_permission(Permission.LEADS_IMPORT)
def show_import(batch_id: int):
    """Importers of the batch's unit: the preview, the progress or the outcome."""
    batch = _get_batch(batch_id)
    if batch.status == ImportStatus.PREVIEWED:
        return _render_preview(batch, ConfirmForm())
    return render_template("interchange/status.html", batch=batch, state=services.progress(batch),
                           can_undo=batch.status == ImportStatus.DONE and not services.changed_since(batch))


def _render_preview(batch: ImportBatch, form: ConfirmForm, status: int = 200):
    """The first visit reads the file's first rows (never the whole file: the job checks every
    row) and keeps what it found with the batch; later visits show what was kept."""
    summary = previews.stored(batch)
    if summary is None:
        try:
            plan = importer.walk_preview(batch, current_user, limit=current_app.config["IMPORT_PREVIEW_ROWS"])
        except FileError as exc:
            begin_writing(db.session)
            services.finish(batch, ImportStatus.FAILED, str(exc))
            # The answer is an error (400), which rolls the request back: the failure is committed
            # here so the import stays failed, with its message.
            db.session.commit()
            return render_template("interchange/status.html", batch=batch, state=services.progress(batch),
                                   can_undo=False), 400
        summary = previews.summarize(plan)
        begin_writing(db.session)  # a GET that keeps what it computed: see crm.database
        importer.keep_preview(batch, plan)
        previews.keep(batch, summary)
    return render_template("interchange/preview.html", batch=batch, plan=summary, form=form,
                           may_create=importer.can_create_references(current_user),
                           preview_rows=current_app.config["IMPORT_PREVIEW_ROWS"],
                           unit_kinds=UNIT_KIND_LABELS, tiers=TIER_LABELS), status


@bp.route("/imports/<int:batch_id>/confirm", methods=["POST"])
@require_permission(Permission.LEADS_IMPORT)
def confirm_import(batch_id: int):
    """Importers of the batch's unit: start the import (a background job)."""
    batch = _get_batch(batch_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _render_preview(batch, form, 400)
    decisions = {key[len("action-"):]: value for key, value in request.form.items() if key.startswith("action-")}
    unit_kinds, node_tiers = _reference_choices(batch)
    try:
        services.confirm(batch, decisions, form.valid_rows_only.data, unit_kinds, node_tiers)
    except services.ImportError_ as exc:
        flash(str(exc), "danger")
    return redirect(url_for("interchange.show_import", batch_id=batch.id))


def _reference_choices(batch: ImportBatch) -> tuple[dict, dict]:
    """The preview's selects: unit_kind-<i> and node_tier-<i>, i the place of the new unit or node
    in the list the preview kept (crm.interchange.importer.preview)."""
    pending = (batch.decisions or {}).get(PENDING) or {}
    unit_kinds = {}
    for i, (name, _kind) in enumerate(pending.get("units") or []):
        value = (request.form.get(f"unit_kind-{i}") or "").strip()
        if value:
            unit_kinds[name] = value
    node_tiers = {}
    for i, (chain, node) in enumerate(pending.get("nodes") or []):
        value = (request.form.get(f"node_tier-{i}") or "").strip()
        if value:
            node_tiers[(chain, node)] = value
    return unit_kinds, node_tiers


@bp.get("/imports/template.xlsx")
@require_permission(Permission.LEADS_IMPORT)
def import_template():
    """Importers: a blank interchange file to fill in (Chinese headers, one example row, lists for
    阶段 and 线索来源类型)."""
    from crm.interchange.template import write_template

    return send_file(io.BytesIO(write_template()), as_attachment=True, download_name="线索导入模板.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/imports/<int:batch_id>/progress")
@require_permission(Permission.LEADS_IMPORT)
def import_progress(batch_id: int):
    """Importers of the batch's unit: progress as JSON (the page polls it)."""
    return jsonify(services.progress(_get_batch(batch_id)))


@bp.route("/imports/<int:batch_id>/report")
@require_permission(Permission.LEADS_IMPORT)
def import_report(batch_id: int):
    """Importers of the batch's unit: the rejected rows as .xlsx, to fix and upload again."""
    batch = _get_batch(batch_id)
    if not batch.report_path:
        abort(404)
    from crm.interchange.services import file_key
    from crm.storage import FileMissing, storage

    try:
        source = storage().readable(file_key(batch.report_path))
    except FileMissing:
        abort(404)
    return send_file(source, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     as_attachment=True,
                     download_name=f"导入被拒绝的行_{batch.id}.xlsx")


@bp.route("/imports/<int:batch_id>/undo", methods=["POST"])
@require_permission(Permission.LEADS_IMPORT)
def undo_import(batch_id: int):
    """Importers of the batch's unit: remove what the import added and restore what it changed,
    while none of its leads changed since."""
    batch = _get_batch(batch_id)
    try:
        count = services.undo(batch, current_user)
    except services.ImportError_ as exc:
        flash(str(exc), "danger")
        return redirect(url_for("interchange.show_import", batch_id=batch.id)), 303
    flash(_("Import undone: %(n)s leads removed or restored.", n=count), "success")
    return redirect(url_for("interchange.show_import", batch_id=batch.id))

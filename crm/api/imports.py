"""Imports over the API: upload (checked, then imported as a background job) and follow it."""
from __future__ import annotations

from flask import current_app, jsonify, request, url_for
from flask_babel import gettext as _

from crm.api import bp
from crm.api.errors import ApiError
from crm.auth.permissions import acting_user, require_permission
from crm.auth.roles import Permission
from crm.extensions import db
from crm.interchange import importer, services
from crm.interchange.models import ImportBatch, ImportStatus
from crm.interchange.readers import FileError


def _batch_json(batch: ImportBatch) -> dict:
    state = services.progress(batch)
    state.update(filename=batch.filename, mode=batch.mode, valid_rows_only=batch.valid_rows_only, history=batch.history,
                 job_id=batch.job_id, url=url_for("interchange.show_import", batch_id=batch.id),
                 report_url=url_for("interchange.import_report", batch_id=batch.id) if batch.report_path else None)
    return state


@bp.post("/imports")
@require_permission(Permission.LEADS_IMPORT)
def create_import():
    """Importers, into their own unit. Form fields: file, mode (create|upsert), valid_rows_only,
    history (the historical ledger import: administrators only, 403 for anyone else),
    create_missing (team leads and administrators: create the chains, nodes and units the file
    names and nobody has; a unit whose name does not tell its kind is refused, 400, by name).
    The file is checked at once (400 with the reason when it cannot be read) and imported by a job."""
    user = acting_user()
    history = _flag("history")
    if history and not importer.can_import_history(user):
        raise ApiError(403, _("You do not have permission to do this."))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, _("Send the file as the form field “file”."))
    try:
        batch = services.store_upload(upload.stream, upload.filename, user, user.unit,
                                      request.form.get("mode", "create"), history=history,
                                      create_missing=_flag("create_missing") and importer.can_create_references(user))
    except services.ImportError_ as exc:
        raise ApiError(400, str(exc))
    try:
        plan = importer.preview(batch, user, limit=current_app.config["IMPORT_PREVIEW_ROWS"])
    except FileError as exc:
        # Kept as failed, with its message (the 400 rolls the request back).
        services.finish(batch, ImportStatus.FAILED, str(exc))
        db.session.commit()
        raise ApiError(400, str(exc))
    try:
        services.confirm(batch, {}, _flag("valid_rows_only"))
    except services.ImportError_ as exc:  # a new unit whose kind its name does not tell
        raise ApiError(400, str(exc))
    body = _batch_json(batch)
    body["planned"] = plan.counts  # of the rows the preview checked (the first ones of a long file)
    body["preview_complete"] = plan.complete
    body["unknown_columns"] = plan.table.unknown
    return jsonify(body), 202


def _flag(name: str) -> bool:
    return request.form.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@bp.get("/imports/<int:batch_id>")
@require_permission(Permission.LEADS_IMPORT)
def get_import(batch_id: int):
    """Importers of the batch's unit (administrators: any): status, progress and counts."""
    user = acting_user()
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        raise ApiError(404, _("The page or record does not exist."))
    if not (user.can(Permission.LEADS_READ_ALL) or batch.unit_id == user.unit_id):
        raise ApiError(403, _("You do not have permission to do this."))
    return jsonify(_batch_json(batch))

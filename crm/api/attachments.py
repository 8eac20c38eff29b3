"""Attachment endpoints: a record's files, upload (multipart), download. Same rules as the pages
(crm.attachments.services): read by whoever may read the record, every download audited."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from crm.api import bp
from crm.api.errors import ApiError
from crm.attachments import services
from crm.attachments.errors import AttachmentError
from crm.attachments.models import Attachment
from crm.attachments.queries import files_for
from crm.attachments.views import file_response
from crm.auth.permissions import acting_user, require_permission
from crm.extensions import db


def attachment_json(row: Attachment) -> dict:
    return {"id": row.id, "owner_kind": row.owner_kind, "owner_id": row.owner_id, "name": row.original_name,
            "content_type": row.content_type, "size": row.size, "sha256": row.sha256,
            "uploaded_by_id": row.uploaded_by_id,
            "uploaded_by": row.uploaded_by.display_name if row.uploaded_by else None,
            "uploaded_at": row.uploaded_at.isoformat(), "note": row.note,
            "download_url": url_for("api.api_attachment_download", attachment_id=row.id)}


def _api_error(exc: AttachmentError) -> ApiError:
    db.session.rollback()
    extra = {"fields": {exc.field: [str(exc)]}} if exc.field and exc.status in (400, 413) else {}
    return ApiError(exc.status, str(exc), **extra)


def _owner_ref(source) -> tuple[str, int]:
    kind, owner_id = source.get("kind") or "", source.get("owner_id") or ""
    if not kind or not str(owner_id).isdigit():
        message = _("Give the kind of record and its id (kind, owner_id).")
        raise ApiError(400, message, fields={"kind": [message]} if not kind else {"owner_id": [message]})
    return kind, int(owner_id)


@bp.route("/attachments")
@require_permission()
def api_attachments():
    """The files of a record the caller may read (?kind=screening_case|screening_opinion|agenda_item
    &owner_id=…)."""
    kind, owner_id = _owner_ref(request.args)
    user = acting_user()
    try:
        kind_spec, owner = services.owner_for(kind, owner_id, user)
    except AttachmentError as exc:
        raise _api_error(exc)
    rows = files_for(kind, [owner_id])[owner_id]
    return jsonify({"items": [attachment_json(r) for r in rows], "can_upload": kind_spec.may_upload(user, owner)})


@bp.route("/attachments", methods=["POST"])
@require_permission()
def api_attachment_upload():
    """Add a file (multipart/form-data: `kind`, `owner_id`, `file`, optional `note`)."""
    kind, owner_id = _owner_ref(request.form)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, _("Choose a file."), fields={"file": [_("Choose a file.")]})
    try:
        row = services.upload(kind, owner_id, upload.stream, upload.filename, acting_user(),
                              request.form.get("note"))
    except AttachmentError as exc:
        raise _api_error(exc)
    return jsonify(attachment_json(row)), 201


@bp.route("/attachments/<int:attachment_id>/download")
@require_permission()
def api_attachment_download(attachment_id: int):
    """The file itself, as an attachment under its original name (audited)."""
    try:
        row, path = services.open_for_download(attachment_id, acting_user())
    except AttachmentError as exc:
        raise _api_error(exc)
    return file_response(row, path)

"""Attachment pages: upload to a record, download, remove. The rules are in services.py."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, send_file
from flask_babel import gettext as _
from werkzeug.exceptions import default_exceptions

from crm.attachments import services
from crm.attachments.errors import AttachmentError
from crm.attachments.forms import DeleteForm, UploadForm
from crm.auth.permissions import acting_user, require_permission
from crm.documents import attachment
from crm.extensions import db

bp = Blueprint("attachments", __name__, url_prefix="/attachments")


def _abort(exc: AttachmentError):
    """Answer with the refusal's status and its message (the app's error page)."""
    db.session.rollback()
    error = default_exceptions[exc.status]()
    error.crm_message = str(exc)
    raise error


@bp.route("/<kind>/<int:owner_id>", methods=["POST"])
@require_permission()
def upload(kind: str, owner_id: int):
    """Whoever the record's kind allows (e.g. the lead's officers on a case, while it is open)."""
    user = acting_user()
    try:
        kind_spec, owner = services.owner_for(kind, owner_id, user)
    except AttachmentError as exc:
        _abort(exc)
    back = kind_spec.link(owner)
    form = UploadForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(back, 303)
    try:
        row = services.upload(kind, owner_id, form.file.data.stream, form.file.data.filename, user,
                              form.note.data)
    except AttachmentError as exc:
        if exc.status in (403, 404):
            _abort(exc)
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(back, 303)
    flash(_("File added: %(name)s", name=row.original_name), "success")
    return redirect(back, 303)


def file_response(row, path):
    """The stored file as a download under its original name, never rendered by the browser."""
    response = send_file(path, mimetype=row.content_type, conditional=True, max_age=0)
    attachment(response, row.original_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/<int:attachment_id>/download")
@require_permission()
def download(attachment_id: int):
    """Whoever may read the record the file belongs to; every download is audited."""
    try:
        row, path = services.open_for_download(attachment_id, acting_user())
    except AttachmentError as exc:
        _abort(exc)
    return file_response(row, path)


@bp.route("/<int:attachment_id>/delete", methods=["POST"])
@require_permission()
def delete(attachment_id: int):
    """The uploader or an administrator, while the record is open."""
    form = DeleteForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        row, kind, owner = services.delete(attachment_id, acting_user())
    except AttachmentError as exc:
        _abort(exc)
    flash(_("File removed: %(name)s", name=row.original_name), "success")
    return redirect(kind.link(owner), 303)

"""Attachment rules: upload, download (audited), delete. They flush, never commit."""
from __future__ import annotations

import unicodedata
import uuid
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _

from crm import clock
from crm.attachments import storage
from crm.attachments.detect import detect
from crm.attachments.errors import AttachmentError
from crm.attachments.models import Attachment
from crm.attachments.registry import AttachmentKind, get_kind
from crm.audit.listener import record
from crm.auth.roles import Permission
from crm.extensions import db

NAME_MAX = 200


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_MB", 20)) * 1024 * 1024


def safe_name(name: str | None) -> str:
    """The name to show and to offer on download: the last path part only, no control or
    direction characters, at most NAME_MAX characters (the ending kept). Never a path."""
    text = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    text = " ".join(text.split()).strip(" .")
    if len(text) > NAME_MAX:
        stem, dot, ext = text.rpartition(".")
        text = (stem[:NAME_MAX - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else text[:NAME_MAX]
    return text


def owner_for(kind_name: str, owner_id: int, user) -> tuple[AttachmentKind, object]:
    """The kind and record, if the user may read it; else 404 (another unit's record is not
    told apart from a missing one)."""
    kind = get_kind(kind_name)
    owner = kind.load(owner_id) if kind is not None else None
    if owner is None or not kind.may_read(user, owner):
        raise AttachmentError(_("The page or record does not exist."), status=404, field=None)
    return kind, owner


def upload(kind_name: str, owner_id: int, stream: BinaryIO, filename: str | None, actor,
           note: str | None = None) -> Attachment:
    """Check, store and record one file. On any refusal nothing is stored."""
    kind, owner = owner_for(kind_name, owner_id, actor)
    if not kind.may_upload(actor, owner):
        raise AttachmentError(_("You cannot add files here (only the responsible unit, while the "
                                "record is open)."), status=403, field=None)
    name = safe_name(filename)
    if not name:
        raise AttachmentError(_("Choose a file."))
    note = (note or "").strip() or None
    if note is not None and len(note) > 500:
        raise AttachmentError(_("Keep the note under 500 characters."), field="note")
    limit = max_bytes()
    try:
        received = storage.receive(stream, limit)
    except storage.TooLarge:
        raise AttachmentError(_("The file is larger than %(mb)s MB; nothing was stored.",
                                mb=limit // (1024 * 1024)), status=413)
    stored_name = uuid.uuid4().hex
    try:
        if received.size == 0:
            raise AttachmentError(_("The file is empty."))
        with open(received.path, "rb") as fh:
            detected = detect(fh, name)
        storage.place(received, stored_name)
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    row = Attachment(owner_kind=kind.name, owner_id=owner_id, original_name=name, stored_name=stored_name,
                     content_type=detected.mimetype, size=received.size, sha256=received.sha256,
                     uploaded_by_id=actor.id, uploaded_at=clock.now(), note=note)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except BaseException:
        storage.remove(stored_name)  # no row, no file
        raise
    # If the request's transaction rolls back later, the file goes too (see install_session_hooks).
    db.session.info.setdefault("attachments_written", []).append(stored_name)
    return row


def readable(attachment_id: int, user) -> tuple[Attachment, AttachmentKind, object]:
    row = db.session.get(Attachment, attachment_id)
    if row is None:
        raise AttachmentError(_("The page or record does not exist."), status=404, field=None)
    kind, owner = owner_for(row.owner_kind, row.owner_id, user)
    return row, kind, owner


def open_for_download(attachment_id: int, user) -> tuple[Attachment, object]:
    """The row and its file (a local path, or a stream from the object store), if the user may
    read the record; the download is audited."""
    from crm.storage import FileMissing

    row, _kind, _owner = readable(attachment_id, user)
    try:
        path = storage.readable(row.stored_name)
    except FileMissing:
        current_app.logger.error("attachment %s: file %s is missing", row.id, row.stored_name)
        raise AttachmentError(_("The file is missing from the store; tell the administrators."),
                              status=404, field=None)
    record(db.session, "download", Attachment.__tablename__, row.id,
           {"original_name": [None, row.original_name], "owner": [None, f"{row.owner_kind}:{row.owner_id}"]})
    db.session.flush()
    return row, path


def may_delete(user, row: Attachment, kind: AttachmentKind, owner) -> bool:
    """The uploader or an administrator, while the record is open."""
    if not kind.is_open(owner):
        return False
    return row.uploaded_by_id == user.id or user.can(Permission.MANAGE_ACCOUNTS)


def delete(attachment_id: int, user) -> tuple[Attachment, AttachmentKind, object]:
    """Remove a file (audited by the row's delete); returns the row, its kind and record."""
    row, kind, owner = readable(attachment_id, user)
    if not may_delete(user, row, kind, owner):
        raise AttachmentError(_("Only the person who added the file, or an administrator, can remove "
                                "it, and only while the record is open."), status=403, field=None)
    stored_name = row.stored_name
    db.session.delete(row)
    db.session.flush()
    # The bytes go after the commit; a rolled-back delete keeps its file.
    db.session.info.setdefault("attachments_to_remove", []).append(stored_name)
    return row, kind, owner


def _after_commit(session) -> None:
    session.info.pop("attachments_written", None)
    for stored_name in session.info.pop("attachments_to_remove", []):
        storage.remove(stored_name)


def _after_soft_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is not None:  # a savepoint, not the unit of work
        return
    session.info.pop("attachments_to_remove", None)  # the row is back: keep its file
    for stored_name in session.info.pop("attachments_written", []):
        storage.remove(stored_name)  # the row is gone: so is its file


def install_session_hooks() -> None:
    """Files follow the transaction: a removed row's file goes after the commit, an added row's
    file goes if the transaction rolls back. Installed by register_attachment_kinds (once)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)

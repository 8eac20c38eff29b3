"""Read side: the files of records, and what a user may do with them (for the panel macro)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.attachments.detect import ALLOWED_EXTENSIONS
from crm.attachments.models import Attachment
from crm.attachments.registry import get_kind
from crm.attachments.services import may_delete
from crm.extensions import db


def files_for(kind: str, owner_ids) -> dict[int, list[Attachment]]:
    """owner id → its files, oldest first."""
    ids = sorted(set(owner_ids))
    out: dict[int, list[Attachment]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = db.session.scalars(select(Attachment).where(Attachment.owner_kind == kind, Attachment.owner_id.in_(ids))
                              .options(joinedload(Attachment.uploaded_by))
                              .order_by(Attachment.uploaded_at, Attachment.id))
    for row in rows:
        out[row.owner_id].append(row)
    return out


@dataclass
class Panel:
    kind: str
    owner_id: int
    files: list[Attachment] = field(default_factory=list)
    can_upload: bool = False
    deletable: set[int] = field(default_factory=set)
    max_mb: int = 20
    accept: str = ",".join(f".{e}" for e in sorted(ALLOWED_EXTENSIONS))


def panels(kind_name: str, owners: dict[int, object], user) -> dict[int, Panel]:
    """One panel per record the user may read (owner id → record already loaded)."""
    kind = get_kind(kind_name)
    if kind is None:
        return {}
    readable = {oid: o for oid, o in owners.items() if o is not None and kind.may_read(user, o)}
    files = files_for(kind_name, readable)
    max_mb = int(current_app.config.get("ATTACHMENT_MAX_MB", 20))
    out = {}
    for oid, owner in readable.items():
        rows = files[oid]
        out[oid] = Panel(kind_name, oid, rows, kind.may_upload(user, owner),
                         {r.id for r in rows if may_delete(user, r, kind, owner)}, max_mb)
    return out


def panel(kind_name: str, owner_id: int, user) -> Panel | None:
    """The panel of one record, or None when the user may not read it (the macro shows nothing)."""
    kind = get_kind(kind_name)
    owner = kind.load(owner_id) if kind is not None else None
    return panels(kind_name, {owner_id: owner}, user).get(owner_id)

"""The agenda item's attachment kind (the project's report for the leadership group's meeting):
read by whoever may read the item (crm.decisions.access: every item for leaders, viewers, admins
and the secretariat, an own-unit item for the others); added and removed by the secretariat while
the item is open and its meeting not closed."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from crm.attachments.registry import AttachmentKind
from crm.auth.roles import Permission
from crm.decisions import access
from crm.extensions import db

AGENDA_KIND = "agenda_item"


def _load(owner_id: int):
    from crm.decisions.models import AgendaItem

    return db.session.get(AgendaItem, owner_id)


def _open(item) -> bool:
    return item.is_open and getattr(item.meeting, "status", None) != "closed"


AGENDA = AttachmentKind(
    name=AGENDA_KIND,
    load=_load,
    may_read=lambda user, item: user.can(Permission.DECISIONS_READ) and access.may_read_item(user, item),
    may_upload=lambda user, item: _open(item) and access.keeps_agenda(user),
    is_open=_open,
    label=lambda item: _("Agenda item: %(company)s", company=item.lead.company_name),
    link=lambda item: url_for("decisions.meeting", meeting_id=item.meeting_id) + f"#item-{item.id}",
)

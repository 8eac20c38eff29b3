"""The attachment kind 'milestone': evidence of an actual milestone date (the signed agreement, the
construction permit, the acceptance certificate …), owned by the MilestoneActual row. Read by the
project's readers, added by the owner unit (officers and team leads)."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from crm.attachments.registry import AttachmentKind
from crm.auth.permissions import can_edit_unit_records, can_read_unit_records
from crm.extensions import db
from crm.leads.models import Lead

MILESTONE_KIND = "milestone"


def _load(owner_id: int):
    from crm.tracking.models import MilestoneActual

    return db.session.get(MilestoneActual, owner_id)


def _unit_of(row) -> int | None:
    lead = db.session.get(Lead, row.lead_id)
    return lead.owner_unit_id if lead is not None else None


def _label(row) -> str:
    lead = db.session.get(Lead, row.lead_id)
    return _("%(milestone)s of %(company)s", milestone=row.milestone_label,
             company=lead.company_name if lead else "")


MILESTONE = AttachmentKind(
    name=MILESTONE_KIND,
    load=_load,
    may_read=lambda user, row: can_read_unit_records(user, _unit_of(row)),
    may_upload=lambda user, row: can_edit_unit_records(user, _unit_of(row)),
    is_open=lambda row: True,
    label=_label,
    link=lambda row: url_for("tracking.project", lead_id=row.lead_id) + f"#milestone-{row.milestone}",
)

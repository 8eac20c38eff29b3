"""Contacts in the lead interchange file (DOMAIN.md): 联系人, 职务, 联系电话 are the lead's primary
contact.

Import: a row's contact cells are checked like the lead page's (the phone normalised; a phone or
title without a name is refused, naming the column). A created lead gets the contact as its
primary; an updated lead gets it added when it has no contact of that name (primary if it has
none). A contact already on the lead is never overwritten by a sheet. Undoing the import
removes the contacts it added (those nobody edited since).

Export: the primary contact's name and title for every reader; the phone only where the reader
may see personal data (crm.contacts.access), else the cell is empty (the column stays, so every
reader's file has the same columns).
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, case, null, select

from crm.contacts.access import personal_unit_condition
from crm.contacts.models import LeadContact
from crm.contacts.phones import PhoneError, normalize_phone
from crm.contacts.services import ContactError, add_contact, clean
from crm.bulk import bulk_insert
from crm.extensions import db

HEADERS = {"name": "联系人", "title": "职务", "phone": "联系电话"}
ROW_KEYS = {"contact_name": "name", "contact_title": "title", "contact_phone": "phone"}


# --- import -------------------------------------------------------------------------------------
def parse_phone(value) -> str | None:
    """The 联系电话 cell (crm.interchange.rows._PARSERS): normalised, or CellError."""
    from crm.interchange.parsing import CellError

    try:
        return normalize_phone(value)
    except PhoneError as exc:
        raise CellError(str(exc)) from exc


def check_row_contact(row) -> None:
    """Move the row's contact cells into row.values["contact"] (checked), or add its errors."""
    given = {field: row.values.pop(key) for key, field in ROW_KEYS.items() if row.values.get(key) is not None}
    if not given:
        return
    if not given.get("name"):
        row.errors.append((HEADERS["name"], _("Give the contact's name (联系人) for the phone or title.")))
        return
    try:
        row.values["contact"] = clean(given)
    except ContactError as exc:
        row.errors.append((HEADERS.get(exc.field, HEADERS["name"]), str(exc)))


def insert_created(batch_id: int, user_id: int, rows, lead_ids, now) -> None:
    """The contacts of the leads an import created (bulk), with their audit entries."""
    from crm.audit.listener import plain_value
    from crm.audit.models import AuditEntry

    contacts, entries = [], []
    for row, lead_id in zip(rows, lead_ids):
        values = row.values.get("contact")
        if not values:
            continue
        contacts.append({"lead_id": lead_id, "name": values["name"], "title": values.get("title"),
                         "phone": values.get("phone"), "wechat": None, "email": None, "note": None,
                         "is_primary": True, "import_batch_id": batch_id, "created_by_id": user_id,
                         "created_at": now, "updated_at": now})
        changes = {k: [None, plain_value(v)] for k, v in values.items() if v is not None}
        changes.update(is_primary=[None, True], import_batch=[None, batch_id])
        entries.append({"at": now, "actor_id": user_id, "action": "contact_create", "entity_type": "leads",
                        "entity_id": lead_id, "changes": changes})
    bulk_insert(db.session, LeadContact.__table__, contacts)
    bulk_insert(db.session, AuditEntry.__table__, entries)


def add_to_updated(lead, row, batch_id: int, user) -> bool:
    """An updated lead's contact from the row, unless the lead has one of that name already.
    True when a contact was added."""
    values = row.values.get("contact")
    if not values:
        return False
    key = _name_key(values["name"])
    names = db.session.scalars(select(LeadContact.name).where(LeadContact.lead_id == lead.id)).all()
    if any(_name_key(n) == key for n in names):
        return False
    add_contact(lead, values, user, import_batch_id=batch_id)
    return True


def _name_key(name: str) -> str:
    return "".join((name or "").split()).lower()


# --- export -------------------------------------------------------------------------------------
def primary_contact_join(lead_id_column):
    """The outer join's condition: the lead's primary contact (at most one: a unique index)."""
    return and_(LeadContact.lead_id == lead_id_column, LeadContact.is_primary.is_(True))


def export_columns(user, unit_column) -> dict:
    """key → SQL expression of the three contact columns, the phone empty where `user` may not
    see it."""
    visible = personal_unit_condition(user, unit_column)
    return {"contact_name": LeadContact.name, "contact_title": LeadContact.title,
            "contact_phone": case((visible, LeadContact.phone), else_=null())}

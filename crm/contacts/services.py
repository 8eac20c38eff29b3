"""Contact rules: add, change, remove, make primary. Every door (the lead page, the new-lead
form, the API, the import) goes through clean(); a lead with contacts has exactly one primary.
Flush, never commit."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from crm.contacts.models import LeadContact
from crm.contacts.phones import PhoneError, normalize_phone
from crm.extensions import db
from crm.leads.models import Lead
from crm.leads.services import LeadError
from crm.validation import OutOfRange, check_email, check_text

FIELDS = ("name", "title", "phone", "wechat", "email", "note")
_LIMITS = {"name": 60, "title": 60, "wechat": 60, "note": 2000}


class ContactError(LeadError):
    """A contact's value is refused; `field` names the contact field (name, phone, …), `index`
    the contact's place in a list given at once (add_contacts)."""

    index: int | None = None


def clean(data: dict, partial: bool = False) -> dict:
    """The contact's values checked and normalised: text trimmed, one line (note excepted), the
    phone in its kept form, the e-mail address checked. `partial`: only the keys given."""
    out = {}
    for key in FIELDS:
        if partial and key not in data:
            continue
        value = data.get(key)
        if key == "phone" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(int(value)) if float(value).is_integer() else str(value)  # a sheet's number cell
        if value is not None and not isinstance(value, str):
            raise ContactError(_("Write this as text."), key)
        value = (value or "").strip() or None
        try:
            if key == "phone":
                value = normalize_phone(value)
            elif key == "email":
                value = check_email(value)
            else:
                check_text(value, limit=_LIMITS[key], one_line=key != "note")
        except (PhoneError, OutOfRange) as exc:
            raise ContactError(str(exc), key) from exc
        out[key] = value
    if "name" in out or not partial:
        if not out.get("name"):
            raise ContactError(_("Give the contact's name."), "name")
    return out


def add_contact(lead: Lead, data: dict, actor, primary: bool | None = None,
                import_batch_id: int | None = None) -> LeadContact:
    """A new contact; the lead's first is its primary, a later one only when asked."""
    values = clean(data)
    has_primary = db.session.scalar(select(LeadContact.id).where(
        LeadContact.lead_id == lead.id, LeadContact.is_primary.is_(True)).limit(1)) is not None
    make_primary = not has_primary or bool(primary)
    if make_primary and has_primary:
        _clear_primary(lead.id)
    contact = LeadContact(lead_id=lead.id, is_primary=make_primary, created_by_id=getattr(actor, "id", None),
                          import_batch_id=import_batch_id, **values)
    db.session.add(contact)
    db.session.flush()
    return contact


def add_contacts(lead: Lead, contacts, actor) -> list[LeadContact]:
    """Several contacts at once (a new lead's): each checked first, so none is added if one is
    refused; the one marked is_primary (else the first) becomes the primary."""
    checked = []
    for index, data in enumerate(contacts):
        if not isinstance(data, dict):
            error = ContactError(_("Each contact is an object with a name."), "name")
            error.index = index
            raise error
        try:
            checked.append((clean(data), bool(data.get("is_primary"))))
        except ContactError as exc:
            exc.index = index
            raise
    wanted = next((i for i, (_v, primary) in enumerate(checked) if primary), 0)
    return [add_contact(lead, values, actor, primary=i == wanted) for i, (values, _p) in enumerate(checked)]


def update_contact(contact: LeadContact, data: dict, primary: bool | None = None) -> LeadContact:
    """Change the values given; primary=True makes it the primary contact (primary=False is
    ignored: another contact has to become primary instead)."""
    values = clean(data, partial=True)
    for key, value in values.items():
        setattr(contact, key, value)
    contact.import_batch_id = None  # a person's edit: no longer the import's to undo
    if primary and not contact.is_primary:
        make_primary(contact)
    db.session.flush()
    return contact


def make_primary(contact: LeadContact) -> None:
    _clear_primary(contact.lead_id)
    contact.is_primary = True
    db.session.flush()


def remove_contact(contact: LeadContact) -> None:
    """Remove it; if it was the primary, the oldest remaining contact becomes primary."""
    lead_id, was_primary = contact.lead_id, contact.is_primary
    db.session.delete(contact)
    db.session.flush()
    if was_primary:
        successor = db.session.scalar(select(LeadContact).where(LeadContact.lead_id == lead_id)
                                      .order_by(LeadContact.id).limit(1))
        if successor is not None:
            successor.is_primary = True
            db.session.flush()


def _clear_primary(lead_id: int) -> None:
    """Through the ORM, so each change is audited; flushed first so the unique index never sees
    two primaries."""
    for other in db.session.scalars(select(LeadContact).where(LeadContact.lead_id == lead_id,
                                                              LeadContact.is_primary.is_(True))):
        other.is_primary = False
    db.session.flush()


def contact_of(lead: Lead, contact_id: int) -> LeadContact | None:
    contact = db.session.get(LeadContact, contact_id)
    return contact if contact is not None and contact.lead_id == lead.id else None


def contacts_for(lead_ids) -> dict[int, list[LeadContact]]:
    """The contacts of many leads in one query, primary first."""
    ids = list(lead_ids)
    out: dict[int, list[LeadContact]] = {i: [] for i in ids}
    if not ids:
        return out
    for contact in db.session.scalars(select(LeadContact).where(LeadContact.lead_id.in_(ids))
                                      .order_by(LeadContact.lead_id, LeadContact.is_primary.desc(), LeadContact.id)):
        out[contact.lead_id].append(contact)
    return out


def remove_import_contacts(batch_id: int) -> int:
    """Undo of an import: the contacts it added to leads that stay (nobody edited them since)."""
    contacts = db.session.scalars(select(LeadContact).where(LeadContact.import_batch_id == batch_id)).all()
    for contact in contacts:
        remove_contact(contact)
    return len(contacts)



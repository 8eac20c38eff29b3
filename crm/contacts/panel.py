"""The contacts block of the lead page: the contacts, what the reader may see of them, and the
forms (add, edit each, make primary, remove) for those who may change the lead."""
from __future__ import annotations

from dataclasses import dataclass, field

from crm.contacts.access import sees_personal_data
from crm.contacts.forms import ContactActionForm, ContactForm
from crm.contacts.models import LeadContact
from crm.contacts.services import contacts_for


@dataclass
class ContactsPanel:
    contacts: list[LeadContact]
    personal: bool                   # the reader sees phone, WeChat and e-mail
    can_edit: bool
    add_form: ContactForm | None = None
    edit_forms: dict = field(default_factory=dict)   # contact id → its form
    action_form: ContactActionForm | None = None
    open_id: int | None = None       # the form to show open: a contact's id, 0 for the new one


def contacts_panel(lead, user, can_edit: bool, failed_form: ContactForm | None = None,
                   failed_id: int | None = None) -> ContactsPanel:
    contacts = contacts_for([lead.id])[lead.id]
    panel = ContactsPanel(contacts, sees_personal_data(user, lead.owner_unit_id), can_edit)
    if not can_edit:
        return panel
    panel.action_form = ContactActionForm()
    panel.add_form = failed_form if failed_form is not None and failed_id is None else ContactForm(formdata=None)
    for contact in contacts:
        if failed_form is not None and failed_id == contact.id:
            panel.edit_forms[contact.id] = failed_form
        else:
            panel.edit_forms[contact.id] = ContactForm(formdata=None, obj=contact)
    if failed_form is not None:
        panel.open_id = failed_id or 0
    return panel

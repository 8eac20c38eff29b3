"""Contact changes from the lead page (POST only; the contacts are shown on the lead page).
Officers and team leads of the lead's unit."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.contacts import services
from crm.contacts.forms import ContactActionForm, ContactForm
from crm.extensions import db
from crm.forms import attach_error
from crm.leads.models import Lead
from crm.leads.queries import get_lead_or_404

bp = Blueprint("contacts", __name__, url_prefix="/leads")


def _show_again(lead_id: int, form: ContactForm, contact_id: int | None):
    from crm.leads.views import _render_show

    db.session.rollback()
    return _render_show(db.session.get(Lead, lead_id), contact_form=form, contact_id=contact_id, status=400)


def _contact_or_404(lead: Lead, contact_id: int):
    contact = services.contact_of(lead, contact_id)
    if contact is None:
        abort(404)
    return contact


@bp.route("/<int:lead_id>/contacts", methods=["POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def add(lead_id: int):
    """Officers and team leads of the owning unit: add a contact."""
    lead = get_lead_or_404(lead_id, write=True)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            services.add_contact(lead, form.contact_data(), current_user, primary=form.is_primary.data)
        except services.ContactError as exc:
            attach_error(form, exc)
        else:
            flash(_("Contact saved."), "success")
            return redirect(url_for("leads.show", lead_id=lead.id) + "#contacts")
    return _show_again(lead_id, form, None)


@bp.route("/<int:lead_id>/contacts/<int:contact_id>", methods=["POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def edit(lead_id: int, contact_id: int):
    """Officers and team leads of the owning unit: change a contact."""
    lead = get_lead_or_404(lead_id, write=True)
    contact = _contact_or_404(lead, contact_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            services.update_contact(contact, form.contact_data(), primary=form.is_primary.data)
        except services.ContactError as exc:
            attach_error(form, exc)
        else:
            flash(_("Contact saved."), "success")
            return redirect(url_for("leads.show", lead_id=lead.id) + "#contacts")
    return _show_again(lead_id, form, contact_id)


@bp.route("/<int:lead_id>/contacts/<int:contact_id>/primary", methods=["POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def primary(lead_id: int, contact_id: int):
    """Officers and team leads of the owning unit: make a contact the primary one."""
    lead = get_lead_or_404(lead_id, write=True)
    contact = _contact_or_404(lead, contact_id)
    if not ContactActionForm().validate_on_submit():
        abort(400)
    services.make_primary(contact)
    flash(_("%(name)s is now the primary contact.", name=contact.name), "success")
    return redirect(url_for("leads.show", lead_id=lead.id) + "#contacts")


@bp.route("/<int:lead_id>/contacts/<int:contact_id>/delete", methods=["POST"])
@require_permission(Permission.LEADS_EDIT_UNIT)
def remove(lead_id: int, contact_id: int):
    """Officers and team leads of the owning unit: remove a contact."""
    lead = get_lead_or_404(lead_id, write=True)
    contact = _contact_or_404(lead, contact_id)
    if not ContactActionForm().validate_on_submit():
        abort(400)
    name = contact.name
    services.remove_contact(contact)
    flash(_("Contact %(name)s removed.", name=name), "success")
    return redirect(url_for("leads.show", lead_id=lead.id) + "#contacts")

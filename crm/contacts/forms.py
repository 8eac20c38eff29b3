from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from crm.contacts.phones import PhoneError, normalize_phone
from crm.validation import CleanText, EmailAddress


class PhoneNumber:
    """Checks and normalises a phone number (crm.contacts.phones) in place."""

    def __call__(self, form, field):
        try:
            field.data = normalize_phone(field.data)
        except PhoneError as exc:
            raise ValidationError(str(exc))


def name_field(label=_l("Contact"), required=True):
    checks = [DataRequired(message=_l("Give the contact's name."))] if required else [Optional()]
    return StringField(label, validators=checks + [CleanText(one_line=True), Length(max=60)])


def title_field():
    return StringField(_l("Job title"), validators=[Optional(), CleanText(one_line=True), Length(max=60)])


def phone_field():
    return StringField(_l("Phone"), validators=[Optional(), Length(max=40), PhoneNumber()])


def wechat_field():
    return StringField(_l("WeChat"), validators=[Optional(), CleanText(one_line=True), Length(max=60)])


def email_field():
    return StringField(_l("E-mail"), validators=[Optional(), Length(max=120), EmailAddress()])


class ContactForm(FlaskForm):
    name = name_field()
    title = title_field()
    phone = phone_field()
    wechat = wechat_field()
    email = email_field()
    note = TextAreaField(_l("Note on the contact"), validators=[Optional(), CleanText(), Length(max=2000)])
    is_primary = BooleanField(_l("Primary contact"))
    submit = SubmitField(_l("Save contact"))

    def contact_data(self) -> dict:
        return {key: getattr(self, key).data for key in ("name", "title", "phone", "wechat", "email", "note")}


class ContactActionForm(FlaskForm):
    """Make primary, remove: only the CSRF token."""

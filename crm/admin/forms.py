from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from crm.validation import EmailAddress

from crm.auth.models import UNIT_KIND_LABELS
from crm.auth.roles import ROLE_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(max=64),
        Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("Use letters, digits, _ . - only."))])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=64)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200), EmailAddress()])
    unit_id = SelectField(_l("Unit"), coerce=int, validators=[DataRequired()])
    roles = MultiCheckboxField(_l("Roles"), choices=[(r.value, l) for r, l in ROLE_LABELS.items()],
                               validators=[DataRequired(message=_l("Choose at least one role."))])
    password = PasswordField(_l("Password (leave empty to keep)"), validators=[Optional(), Length(min=8, max=200)])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[(k.value, l) for k, l in UNIT_KIND_LABELS.items()])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from crm.validation import EmailAddress


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Log in"))


class ProfileForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=64)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200), EmailAddress()])
    locale = SelectField(_l("Language"), choices=[("zh", "中文"), ("en", "English")])
    submit = SubmitField(_l("Save"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[DataRequired(), EqualTo("new_password", _l("The passwords differ."))])
    submit = SubmitField(_l("Change password"))


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)])
    days = IntegerField(_l("Valid for (days)"), default=180, validators=[DataRequired(), NumberRange(1, 730)])
    submit = SubmitField(_l("Create token"))

"""Forms of 问题清单: raise a problem on a project; change its status, resolution or due date."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Optional

from crm.problems.models import PROBLEM_CATEGORY_LABELS, PROBLEM_STATUS_LABELS
from crm.validation import CleanText


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class RaiseForm(FlaskForm):
    category = SelectField(_l("Category"), choices=[(k.value, v) for k, v in PROBLEM_CATEGORY_LABELS.items()],
                           validate_choice=False)  # the service refuses an unknown one in words
    description = TextAreaField(_l("Problem"), validators=[CleanText()])
    # Choices: the active units (set by the panel); the service refuses an inactive one by name.
    responsible_unit_id = SelectField(_l("Responsible unit"), coerce=_optional_int, validate_choice=False)
    due_on = DateField(_l("Due date"), validators=[InputRequired(message=_l("Give the due date."))])
    submit = SubmitField(_l("Raise the problem"))


class ChangeForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[(k.value, v) for k, v in PROBLEM_STATUS_LABELS.items()],
                         validators=[InputRequired(message=_l("Choose a status."))])
    resolution = TextAreaField(_l("Resolution, or the reason for closing it unsolved"),
                               validators=[Optional(), CleanText()])
    due_on = DateField(_l("Due date"), validators=[Optional()])
    version = HiddenField()
    submit = SubmitField(_l("Save"))

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, HiddenField, IntegerField, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from crm.chains.models import INTENT_LABELS, PRIORITY_LABELS, TARGET_STATUS_LABELS, TIER_LABELS, TargetStatus
from crm.forms import AmountField
from crm.leads.forms import _coerce_optional_int, validate_uscc
from crm.validation import AmountInRange, CleanText


def _choices(labels: dict, blank: bool = False):
    result = [(k.value, label) for k, label in labels.items()]
    return ([("", "—")] + result) if blank else result


class ChainForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40), Regexp(
        r"^[a-z0-9_]+$", message=_l("Lower-case letters, digits and _ only, e.g. new_energy."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    position = IntegerField(_l("Order"), default=0, validators=[Optional(), NumberRange(min=0, max=999)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save"))


class NodeForm(FlaskForm):
    chain_id = SelectField(_l("Industry chain"), coerce=int)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    tier = SelectField(_l("Tier"), choices=_choices(TIER_LABELS))
    position = IntegerField(_l("Order"), default=0, validators=[Optional(), NumberRange(min=0, max=999)])
    intent = SelectField(_l("Intent"), choices=_choices(INTENT_LABELS, blank=True))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save"))


class EnterpriseForm(FlaskForm):
    name = StringField(_l("Company name"), validators=[DataRequired(), CleanText(one_line=True), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=30)])
    output_wan = AmountField(_l("Annual output (万元)"), places=2, validators=[Optional(), AmountInRange()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save"))

    def validate_uscc(self, field):
        field.data = validate_uscc(field.data)


class TargetForm(FlaskForm):
    version = HiddenField()
    node_id = SelectField(_l("Chain node"), coerce=_coerce_optional_int,
                          validators=[DataRequired(message=_l("Choose the chain node."))])
    company_name = StringField(_l("Company name"), validators=[DataRequired(), CleanText(one_line=True),
                                                               Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=30)])
    location = StringField(_l("Where the company is"), validators=[Optional(), Length(max=100)])
    reason = SelectField(_l("Why"), choices=_choices(INTENT_LABELS))
    note = TextAreaField(_l("Reason in a sentence"), validators=[Optional(), Length(max=1000)])
    priority = SelectField(_l("Priority"), choices=_choices(PRIORITY_LABELS), default="medium")
    unit_id = SelectField(_l("Responsible unit"), coerce=_coerce_optional_int,
                          validators=[DataRequired(message=_l("Choose the responsible unit."))])
    officer_id = SelectField(_l("Responsible officer"), coerce=_coerce_optional_int, validate_choice=False)
    status = SelectField(_l("Status"), choices=[
        (k.value, label) for k, label in TARGET_STATUS_LABELS.items() if k != TargetStatus.CONVERTED])
    confirm_duplicate = BooleanField(_l("Another unit follows this company: record the target anyway"))
    submit = SubmitField(_l("Save"))

    def validate_uscc(self, field):
        field.data = validate_uscc(field.data)


class ConvertForm(FlaskForm):
    confirm_duplicate = BooleanField(_l("Another unit follows this company: create the lead anyway"))
    submit = SubmitField(_l("Convert to lead"))


class TargetImportForm(FlaskForm):
    file = FileField(_l("Target list (.xlsx or .csv)"), validators=[FileRequired(_l("Choose a file."))])
    submit = SubmitField(_l("Import"))


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete"))

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, RadioField,
                     SelectField, StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.admin.forms import MultiCheckboxField
from crm.forms import AmountField
from crm.screening.materials import COMMON_MATERIALS
from crm.screening.models import RATING_DIMENSIONS, RATING_LABELS, VERDICT_LABELS
from crm.validation import AmountInRange


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class SubmitForm(FlaskForm):
    unit_ids = MultiCheckboxField(_l("Member units asked"), coerce=int,
                                  validators=[DataRequired(message=_l("Choose at least one member unit."))])
    park_unit_id = SelectField(_l("Park (for its thresholds)"), coerce=_optional_int)
    note = TextAreaField(_l("Note to the member units"), validators=[Optional(), Length(max=2000)])
    # A returned lead: the previous round's missing materials, each ticked once supplied
    # (choices set by the view; unticked items may stay open).
    supplied = MultiCheckboxField(_l("Materials supplied since the last round"))
    version = HiddenField()
    submit = SubmitField(_l("Send to pre-screening"))


def _rating(value):
    """"" → None (not rated), digits → int; anything else is handed on for the service to refuse."""
    if value in (None, "", "None"):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else text


RATING_CHOICES = [("", _l("Not rated"))] + [(i, str(i)) for i in range(1, 6)]


def _rating_field(dimension: str) -> SelectField:
    # No default: a rating is chosen or absent, never pre-filled. The service checks the range.
    return SelectField(RATING_LABELS[dimension], coerce=_rating, choices=RATING_CHOICES, default=None,
                       validate_choice=False)


class OpinionForm(FlaskForm):
    verdict = RadioField(_l("Verdict"), choices=[(k.value, v) for k, v in VERDICT_LABELS.items()],
                         validators=[InputRequired(message=_l("Choose approve, approve with conditions or reject."))])
    rating_scale = _rating_field("scale")
    rating_intensity = _rating_field("intensity")
    rating_tech = _rating_field("tech")
    rating_prospects = _rating_field("prospects")
    rating_compliance = _rating_field("compliance")
    materials_common = MultiCheckboxField(_l("Materials still needed"), choices=[(m, m) for m in COMMON_MATERIALS])
    materials_other = TextAreaField(_l("Other materials still needed (one per line)"),
                                    validators=[Optional(), Length(max=4000)])
    conditions = TextAreaField(_l("Conditions"), validators=[Optional(), Length(max=4000)])
    comment = TextAreaField(_l("Comment (the reasons, when rejecting)"), validators=[Optional(), Length(max=4000)])
    based_on_version = HiddenField()
    submit = SubmitField(_l("Submit opinion"))

    def opinion_data(self) -> dict:
        data = {f"rating_{d}": getattr(self, f"rating_{d}").data for d in RATING_DIMENSIONS}
        other = [line for line in (self.materials_other.data or "").splitlines() if line.strip()]
        data.update(verdict=self.verdict.data, materials=list(self.materials_common.data or []) + other,
                    conditions=self.conditions.data, comment=self.comment.data)
        return data


class SettingsForm(FlaskForm):
    working_days = RadioField(_l("Count the three days as"), coerce=lambda v: v in (True, "1", "True"),
                              choices=[("1", _l("Working days (State Council schedule)")),
                                       ("0", _l("Calendar days"))], default="1")
    period_days = IntegerField(_l("Days to answer"), default=3,
                               validators=[InputRequired(), NumberRange(min=1, max=15)])
    default_unit_ids = MultiCheckboxField(_l("Member units asked on every case"), coerce=int)
    submit = SubmitField(_l("Save"))


def _amount(label):
    return AmountField(label, places=2, validators=[
        Optional(), AmountInRange(negative_message=_l("Thresholds cannot be negative."))])


class ThresholdForm(FlaskForm):
    chain_id = SelectField(_l("Industry chain"), coerce=_optional_int)
    park_unit_id = SelectField(_l("Park"), coerce=_optional_int)
    min_total_investment_wan = _amount(_l("Minimum total investment (10k yuan)"))
    min_intensity_wan_per_mu = _amount(_l("Minimum investment intensity (10k yuan/mu)"))
    min_tax_per_mu_wan = _amount(_l("Minimum tax per mu (10k yuan/mu)"))
    min_output_per_mu_wan = _amount(_l("Minimum output per mu (10k yuan/mu)"))
    min_tech_score = IntegerField(_l("Minimum tech score (0–100)"), validators=[
        Optional(), NumberRange(min=0, max=100, message=_l("Give a score from 0 to 100."))])
    submit = SubmitField(_l("Save"))

    FIGURES = ("min_total_investment_wan", "min_intensity_wan_per_mu", "min_tax_per_mu_wan",
               "min_output_per_mu_wan", "min_tech_score")

    def threshold_data(self) -> dict:
        data = {name: getattr(self, name).data for name in self.FIGURES}
        data.update(chain_id=self.chain_id.data, park_unit_id=self.park_unit_id.data)
        return data


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Give a date."))])
    is_workday = RadioField(_l("Kind"), coerce=lambda v: v in (True, "1", "True"),
                            choices=[("0", _l("Holiday")), ("1", _l("Make-up working day"))], default="0")
    name = StringField(_l("Name (e.g. 春节)"), validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Add"))


class ConfirmYearForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    confirm = BooleanField(_l("Every holiday and make-up working day of this year is entered"),
                           validators=[DataRequired(message=_l("Tick to confirm the year is complete."))])
    submit = SubmitField(_l("Mark the year complete"))

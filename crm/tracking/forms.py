"""Forms of the tracking core: the agreement with its planned dates, an actual milestone date,
a 到资 entry. Ranges are checked here and again in crm.tracking.services (every door)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from crm.forms import AmountField
from crm.tracking.models import MILESTONE_LABELS, MILESTONE_ORDER
from crm.validation import AmountInRange, CleanText, DateInRange

NEGATIVE = _l("An amount cannot be negative.")


def _amount(label):
    return AmountField(label, places=2, validators=[Optional(), AmountInRange(negative_message=NEGATIVE)])


class AgreementForm(FlaskForm):
    total_investment_wan = _amount(_l("Contracted total investment (万元)"))
    fixed_asset_investment_wan = _amount(_l("Contracted fixed-asset investment (万元)"))
    land_area_mu = _amount(_l("Land (亩)"))
    promised_output_wan = _amount(_l("Promised annual output (万元)"))
    promised_tax_wan = _amount(_l("Promised annual tax (万元)"))
    jobs = IntegerField(_l("Jobs"), validators=[Optional(), NumberRange(
        min=0, max=10_000_000, message=_l("Must be a whole number of at least 0."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000), CleanText()])
    plan_sign = DateField(MILESTONE_LABELS[MILESTONE_ORDER[0]], validators=[Optional(), DateInRange(planned=True)])
    plan_land = DateField(MILESTONE_LABELS[MILESTONE_ORDER[1]], validators=[Optional(), DateInRange(planned=True)])
    plan_start = DateField(MILESTONE_LABELS[MILESTONE_ORDER[2]], validators=[Optional(), DateInRange(planned=True)])
    plan_complete = DateField(MILESTONE_LABELS[MILESTONE_ORDER[3]],
                              validators=[Optional(), DateInRange(planned=True)])
    plan_produce = DateField(MILESTONE_LABELS[MILESTONE_ORDER[4]],
                             validators=[Optional(), DateInRange(planned=True)])
    plan_above_scale = DateField(MILESTONE_LABELS[MILESTONE_ORDER[5]],
                                 validators=[Optional(), DateInRange(planned=True)])
    reason = StringField(_l("Reason for changing planned dates"),
                         validators=[Optional(), Length(max=500), CleanText(one_line=True)])
    version = HiddenField()

    VALUE_FIELDS = ("total_investment_wan", "fixed_asset_investment_wan", "land_area_mu", "promised_output_wan",
                    "promised_tax_wan", "jobs", "note")

    def plan_fields(self):
        return [getattr(self, f"plan_{m.value}") for m in MILESTONE_ORDER]

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in self.VALUE_FIELDS}

    def plans(self) -> dict:
        return {m.value: getattr(self, f"plan_{m.value}").data for m in MILESTONE_ORDER}


class ActualForm(FlaskForm):
    milestone = SelectField(_l("Milestone"), choices=[(m.value, MILESTONE_LABELS[m]) for m in MILESTONE_ORDER],
                            validators=[InputRequired()])
    actual_on = DateField(_l("Actual date"), validators=[InputRequired(message=_l("Enter the date.")),
                                                         DateInRange(planned=True)])  # the future: services
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000), CleanText()])


class InvestmentForm(FlaskForm):
    amount_wan = AmountField(_l("Amount (万元)"), places=2, validators=[
        InputRequired(message=_l("Enter the amount.")), AmountInRange(negative_message=_l(
            "The amount must be greater than 0."))])
    paid_on = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date.")),
                                                DateInRange(planned=True)])  # the future: services
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500), CleanText(one_line=True)])
    confirm_over_total = BooleanField(_l("Record it even though the total exceeds the contracted investment"))

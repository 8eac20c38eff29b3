"""Forms of the step catalogue, of a step reached on a project, and of the tracking settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.forms import AmountField
from crm.tracking.models import STEP_PHASE_LABELS
from crm.validation import AmountInRange, CleanText, DateInRange


def _phase_choices():
    return [(k.value, v) for k, v in STEP_PHASE_LABELS.items()]


class StepDefinitionForm(FlaskForm):
    name = StringField(_l("Step name"), validators=[DataRequired(message=_l("Give the step a name.")),
                                                    Length(max=100), CleanText(one_line=True)])
    phase = SelectField(_l("Stage group"), choices=_phase_choices(),
                        validators=[InputRequired(message=_l("Choose the stage group of the step."))])
    points = IntegerField(_l("Points of the step"), validators=[InputRequired(message=_l("Give the points.")),
                                                    NumberRange(min=0, max=1000)])
    position = IntegerField(_l("Order"), validators=[InputRequired(message=_l("Give the order.")),
                                                     NumberRange(min=1, max=999)])
    evidence_required = BooleanField(_l("Evidence file required"))
    active = BooleanField(_l("Active (untick to retire the step)"), default=True)
    submit = SubmitField(_l("Save the step"))


class ReachStepForm(FlaskForm):
    step_id = SelectField(_l("Step reached"), coerce=int,
                          validators=[InputRequired(message=_l("Choose a step of the catalogue."))])
    reached_on = DateField(_l("Date reached"), validators=[InputRequired(message=_l("Give the date the step was reached.")),
                                                           DateInRange()])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500), CleanText()])
    evidence = FileField(_l("Evidence (required for steps marked so)"))
    submit = SubmitField(_l("Record the step"))


class TrackingSettingsForm(FlaskForm):
    stale_months = IntegerField(_l("Yellow light: months without any progress"),
                                validators=[InputRequired(), NumberRange(min=1, max=24)])
    red_late_months = IntegerField(_l("Red light: months a milestone is late"),
                                   validators=[InputRequired(), NumberRange(min=1, max=36)])
    investment_behind_pct = IntegerField(_l("Red light: investment (到资) behind the plan by more than this percentage"),
                                         validators=[InputRequired(), NumberRange(min=1, max=100)])
    started_not_completed_years = IntegerField(_l("Red light: years after the start without completion"),
                                               validators=[InputRequired(), NumberRange(min=1, max=10)])
    completed_not_producing_years = IntegerField(_l("Red light: years after completion without production"),
                                                 validators=[InputRequired(), NumberRange(min=1, max=10)])
    not_started_months = IntegerField(_l("Red light: months after the planned start without starting"),
                                      validators=[InputRequired(), NumberRange(min=1, max=36)])
    low_tax_per_mu_wan = AmountField(_l("Low efficiency: tax per mu below (万元/亩)"), places=2,
                                     validators=[InputRequired(), AmountInRange(), NumberRange(min=0, max=1000)])
    reminder_days_before = IntegerField(_l("Reminder letter: days before a planned start or production"),
                                        validators=[InputRequired(), NumberRange(min=1, max=365)])
    assignment_days_overdue = IntegerField(_l("Assignment letter: days a start or production is overdue"),
                                           validators=[InputRequired(), NumberRange(min=1, max=365)])
    reply_working_days = IntegerField(_l("Letters: working days to reply"),
                                      validators=[InputRequired(), NumberRange(min=1, max=60)])
    investment_met_pct = IntegerField(_l("Commitment met: investment (到资) at least this percentage of the plan"),
                                      validators=[InputRequired(), NumberRange(min=1, max=100)])
    submit = SubmitField(_l("Save the settings"))

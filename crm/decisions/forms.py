from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, DecimalField, HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.admin.forms import MultiCheckboxField
from crm.decisions.models import CHOICE_LABELS


class MeetingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the meeting a title.")),
                                                 Length(max=200)])
    meeting_on = DateField(_l("Date"), validators=[InputRequired(message=_l("Give a date."))])
    location = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Schedule the meeting"))


class AddItemForm(FlaskForm):
    lead_id = SelectField(_l("Project awaiting decision"), coerce=int,
                          validators=[InputRequired(message=_l("Choose a project."))])
    submit = SubmitField(_l("Put on the agenda"))


class OpenMeetingForm(FlaskForm):
    present_ids = MultiCheckboxField(_l("Members present"), coerce=int)
    submit = SubmitField(_l("Open the meeting"))


class VoteForm(FlaskForm):
    choice = RadioField(_l("Your vote"), choices=[(k.value, v) for k, v in CHOICE_LABELS.items()],
                        validators=[InputRequired(message=_l("Choose approve, reject, abstain or recuse."))])
    reason = TextAreaField(_l("Reason (required to recuse: the conflict of interest)"),
                           validators=[Optional(), Length(max=2000)])
    based_on_version = HiddenField()
    submit = SubmitField(_l("Vote"))


class CloseItemForm(FlaskForm):
    conditions = TextAreaField(_l("Conditions attached to the decision"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Close the item and record the decision"))


class RulesForm(FlaskForm):
    quorum_fraction = DecimalField(_l("Quorum: more than this share of the members take part"), places=3,
                                   validators=[InputRequired(), NumberRange(min=0, max=0.999, message=_l(
                                       "Give a share from 0 up to (not including) 1, e.g. 0.5 for “more than half”."))])
    pass_fraction = DecimalField(_l("Passing: approvals are more than this share of the votes cast"), places=3,
                                 validators=[InputRequired(), NumberRange(min=0, max=0.999, message=_l(
                                     "Give a share from 0 up to (not including) 1, e.g. 0.5 for “more than half”."))])
    abstain_counts_as_cast = BooleanField(_l("Abstentions count as votes cast"))
    submit = SubmitField(_l("Save the rules"))

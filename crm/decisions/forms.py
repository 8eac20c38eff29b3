from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, DecimalField, HiddenField, IntegerField, RadioField, SelectField,
                     StringField, SubmitField, TextAreaField, TimeField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.decisions.models import ABSENCE_LABELS, CHOICE_LABELS, MEMBER_CHOICES, PASS_BASIS_LABELS


class MeetingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the meeting a title.")),
                                                 Length(max=200)])
    meeting_on = DateField(_l("Date"), validators=[InputRequired(message=_l("Give a date."))])
    start_time = TimeField(_l("Time"), validators=[Optional()])
    location = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    recorder = StringField(_l("Recorder (记录人)"), validators=[Optional(), Length(max=60)])
    observers = TextAreaField(_l("Attending without a vote (列席), names and titles"),
                              validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Schedule the meeting"))

    def details(self) -> dict:
        return {"title": self.title.data, "meeting_on": self.meeting_on.data, "start_time": self.start_time.data,
                "location": self.location.data, "recorder": self.recorder.data, "observers": self.observers.data}


# One radio per member: present, or absent with a reason; nothing is chosen beforehand.
ATTENDANCE_CHOICES = [("present", _l("Present"))] + [(k.value, v) for k, v in ABSENCE_LABELS.items()]


class AttendanceForm(FlaskForm):
    """The attendance list; its rows (attendance_<user id>, note_<user id>) are read by `entries`."""
    submit = SubmitField(_l("Open the meeting"))

    @staticmethod
    def entries(formdata, member_ids) -> dict[int, dict]:
        result = {}
        for uid in member_ids:
            value = formdata.get(f"attendance_{uid}") or None
            if value is None:
                continue
            present = value == "present"
            result[uid] = {"present": present, "reason": None if present else value,
                           "note": formdata.get(f"note_{uid}", "")}
        return result


class VoteForm(FlaskForm):
    choice = RadioField(_l("Your vote"), choices=[(k.value, CHOICE_LABELS[k]) for k in MEMBER_CHOICES],
                        validators=[InputRequired(message=_l("Choose approve, reject, abstain or recuse."))])
    reason = TextAreaField(_l("Reason (required to recuse: the conflict of interest)"),
                           validators=[Optional(), Length(max=2000)])
    based_on_version = HiddenField()
    submit = SubmitField(_l("Vote"))


class CloseItemForm(FlaskForm):
    conditions = TextAreaField(_l("Conditions attached to the decision"), validators=[Optional(), Length(max=4000)])
    confirmed_version = IntegerField(validators=[InputRequired()])  # the item as the count was shown
    submit = SubmitField(_l("Confirm and record the decision"))


class MarkNotVotedForm(FlaskForm):
    user_id = IntegerField(validators=[InputRequired()])
    submit = SubmitField(_l("Mark as not voting"))


class RulesForm(FlaskForm):
    quorum_fraction = DecimalField(_l("Quorum: more than this share of the members present"), places=3,
                                   validators=[InputRequired(), NumberRange(min=0, max=0.999, message=_l(
                                       "Give a share from 0 up to (not including) 1, e.g. 0.5 for “more than half”."))])
    pass_fraction = DecimalField(_l("Passing: approvals are more than this share of the basis below"), places=3,
                                 validators=[InputRequired(), NumberRange(min=0, max=0.999, message=_l(
                                     "Give a share from 0 up to (not including) 1, e.g. 0.5 for “more than half”."))])
    pass_basis = RadioField(_l("Approvals are counted against"),
                            choices=[(k.value, v) for k, v in PASS_BASIS_LABELS.items()],
                            validators=[InputRequired(message=_l("Choose what the approvals are counted against."))])
    abstain_counts_as_cast = BooleanField(_l("Abstentions count as votes cast (with “the votes cast”)"))
    chair_votes_last = BooleanField(_l("The chair states a view last (末位表态)"))
    submit = SubmitField(_l("Save the rules"))


class ProposeForm(FlaskForm):
    lead_id = IntegerField(validators=[InputRequired()])
    note = TextAreaField(_l("Note to the secretariat"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Propose for a meeting"))


class SecretariatForm(FlaskForm):
    secretariat_unit_id = SelectField(_l("Unit keeping the agenda (its team leads schedule meetings and set "
                                         "agendas; admins always may)"), coerce=lambda v: int(v) if v else None)
    submit = SubmitField(_l("Save"))

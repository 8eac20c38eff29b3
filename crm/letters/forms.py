from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from crm.letters.services import REPLY_LIMIT


class AcknowledgeForm(FlaskForm):
    submit = SubmitField(lazy_pgettext("letter", "Acknowledge receipt"))


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Progress of the project (reply to the letter)"),
                          validators=[DataRequired(message=_l("Write the progress of the project in the reply.")),
                                      Length(max=REPLY_LIMIT)])
    submit = SubmitField(lazy_pgettext("letter", "Send the reply"))

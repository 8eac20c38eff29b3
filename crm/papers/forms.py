from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional, Regexp

_NO_BRACKETS = Regexp(r"^[^〔〕\[\]\(\)（）\d]*$", message=_l(
    "The prefix is the issuer's short name and kind only (e.g. 将招初审); the year and number are added."))


class PaperSettingsForm(FlaskForm):
    notice_issuer = StringField(_l("Issuer of the one-time notice (full name, with the county)"),
                                validators=[Optional(), Length(max=100)])
    notice_prefix = StringField(_l("Document-number prefix of the notice"),
                                validators=[Optional(), Length(max=20), _NO_BRACKETS])
    minutes_issuer = StringField(_l("Issuer of the minutes (full name, with the county)"),
                                 validators=[Optional(), Length(max=100)])
    minutes_prefix = StringField(_l("Document-number prefix of the minutes"),
                                 validators=[Optional(), Length(max=20), _NO_BRACKETS])
    letter_issuer = StringField(_l("Issuer of the reminder, assignment and supervision letters (full name, with the county)"),
                                validators=[Optional(), Length(max=100)])
    letter_prefix = StringField(_l("Document-number prefix of the letters"),
                                validators=[Optional(), Length(max=20), _NO_BRACKETS])
    bulletin_issuer = StringField(_l("Issuer of the monthly bulletin (full name, with the county)"),
                                  validators=[Optional(), Length(max=100)])
    bulletin_prefix = StringField(_l("Document-number prefix of the bulletin"),
                                  validators=[Optional(), Length(max=20), _NO_BRACKETS])
    submit = SubmitField(_l("Save"))

    def settings_data(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("notice_issuer", "notice_prefix", "minutes_issuer", "minutes_prefix", "letter_issuer",
                 "letter_prefix", "bulletin_issuer", "bulletin_prefix")}

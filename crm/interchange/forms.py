from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SubmitField

MODE_CHOICES = [("create", _l("Add new leads; skip companies already recorded")),
                ("upsert", _l("Add new leads and update my unit's matching leads"))]


class UploadForm(FlaskForm):
    file = FileField(_l("Interchange file (.xlsx or .csv)"),
                     validators=[FileRequired(message=_l("Choose a file."))])
    mode = SelectField(_l("Mode"), choices=MODE_CHOICES)
    unit_id = SelectField(_l("Unit for rows without 责任单位"), coerce=int)
    # Shown to administrators only; the view refuses it (403) from anyone else.
    history = BooleanField(_l("Historical ledger import (历史台账导入): outcomes such as 签约, 开工 and 终止 "
                              "with the file's dates, marked as history; no pre-screening case or vote"))
    submit = SubmitField(_l("Upload and preview"))


class ConfirmForm(FlaskForm):
    valid_rows_only = BooleanField(_l("Import the valid rows and leave out the rejected ones"))
    submit = SubmitField(_l("Import"))

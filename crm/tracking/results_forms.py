"""Forms of the yearly results: typed in on the project page, and the tax bureau's sheet."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SubmitField
from wtforms.validators import InputRequired, Optional

from crm.forms import AmountField
from crm.validation import AmountInRange


class YearlyResultForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(message=_l("Give the year of the results."))])
    output_wan = AmountField(_l("Yearly output (万元)"), places=2, validators=[Optional(), AmountInRange(
        negative_message=_l("The amount cannot be negative."))])
    tax_wan = AmountField(_l("Yearly tax (万元)"), places=2, validators=[Optional(), AmountInRange(
        negative_message=_l("The amount cannot be negative."))])
    submit = SubmitField(_l("Save the year's results"))


class SheetUploadForm(FlaskForm):
    file = FileField(_l("The tax bureau's sheet (.xlsx or .csv)"),
                     validators=[FileRequired(message=_l("Choose a file."))])
    submit = SubmitField(_l("Check the sheet"))


class SheetConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Import these results"))

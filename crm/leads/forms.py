from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, SelectField,
                     StringField, SubmitField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from crm.contacts import forms as contact_fields
from crm.forms import AmountField
from crm.leads.models import ACTIVITY_KIND_LABELS, SOURCE_KIND_LABELS
from crm.validation import AmountInRange, CleanText, DateInRange


def _amount(label):
    return AmountField(label, places=2, validators=[Optional(), AmountInRange()])


def _coerce_optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def _coerce_tristate(value):
    if value in (None, "", "None"):
        return None
    if isinstance(value, bool):
        return value
    return value in ("1", "true", "True", "y", "yes")


TRISTATE = [("", _l("Unknown")), ("1", _l("Yes")), ("0", _l("No"))]


# python-stdnum's USCC rule (stdnum.cn.uscc), for the common case of a code already written
# compact in ASCII: an import checks 100,000 of them, and stdnum's Unicode clean-up costs ~25 µs
# each. Anything else, and every code this finds wrong, goes through stdnum (its reasons).
_USCC_PLAIN = re.compile(r"[0-9]{8}[0-9A-HJ-NP-RTUWXY]{10}")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _plain_valid_uscc(code: str) -> bool:
    """True when `code` is 18 ASCII characters that stdnum's validate() returns unchanged."""
    if _USCC_PLAIN.fullmatch(code) is None:
        return False
    value = _USCC_VALUE
    total = sum(value[c] * w for c, w in zip(code, _USCC_WEIGHTS))
    return code[17] == _USCC_ALPHABET[(31 - total) % 31]


def validate_uscc(value: str | None) -> str | None:
    """The compact, upper-case code, or ValidationError with the reason in the user's language."""
    if not value or not value.strip():
        return None
    code = value.upper()
    if _plain_valid_uscc(code):
        return code
    try:
        return stdnum_uscc.validate(value.upper())  # validate() compacts (spaces, dashes) itself
    except StdnumError as exc:
        reasons = {
            "InvalidLength": _l("A unified social credit code has 18 characters."),
            "InvalidFormat": _l("The unified social credit code contains characters it cannot have."),
            "InvalidChecksum": _l("The check digit of the unified social credit code is wrong: please check the code."),
            "InvalidComponent": _l("The unified social credit code has an invalid registration department or region."),
        }
        raise ValidationError(reasons.get(type(exc).__name__, _l("Invalid unified social credit code."))) from exc


class LeadForm(FlaskForm):
    company_name = StringField(_l("Company"), validators=[
        DataRequired(message=_l("The company name is required.")), CleanText(one_line=True), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=40)])
    project_name = StringField(_l("Project"), validators=[Optional(), Length(max=200)])
    chain_id = SelectField(_l("Industry chain"), coerce=_coerce_optional_int, validate_choice=True)
    chain_node_id = SelectField(_l("Chain node"), coerce=_coerce_optional_int, validate_choice=True)
    source_id = SelectField(_l("Source"), coerce=_coerce_optional_int, validate_choice=True)
    source_kind = SelectField(_l("Source kind"), choices=[("", "—")] + [(k.value, l) for k, l in SOURCE_KIND_LABELS.items()],
                              validators=[Optional()])
    origin_region = StringField(_l("Investor's region"), validators=[Optional(), Length(max=60)])
    planned_investment_wan = _amount(_l("Planned total investment (10k yuan)"))
    fixed_asset_investment_wan = _amount(_l("Fixed-asset investment (10k yuan)"))
    land_area_mu = AmountField(_l("Land area (mu)"), places=2, validators=[Optional(), AmountInRange(positive=True)])
    expected_output_wan = _amount(_l("Expected annual output (10k yuan)"))
    expected_tax_wan = _amount(_l("Expected annual tax (10k yuan)"))
    high_tech = SelectField(_l("High-tech enterprise"), choices=TRISTATE, coerce=_coerce_tristate)
    specialized = SelectField(_l("Specialised and innovative (zhuanjingtexin)"), choices=TRISTATE, coerce=_coerce_tristate)
    patents = IntegerField(_l("Patents"), validators=[Optional(), NumberRange(min=0, max=100000, message=_l("Must be a whole number of at least 0."))])
    rd_ratio = AmountField(_l("R&D share of revenue (%)"), places=2, validators=[
        Optional(), AmountInRange(limit=Decimal(100)), NumberRange(min=0, max=100, message=_l("Must be between 0 and 100."))])
    jobs = IntegerField(_l("Expected jobs"), validators=[Optional(), NumberRange(min=0, max=1000000, message=_l("Must be a whole number of at least 0."))])
    owner_id = SelectField(_l("Responsible officer"), coerce=_coerce_optional_int, validate_choice=True)
    created_on = DateField(_l("Recorded on"), validators=[Optional(), DateInRange()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()
    confirm_duplicate = BooleanField(_l("I know another unit follows this company; record it anyway"))
    # The first contact, on the new-lead form only (later ones on the lead page: crm.contacts).
    contact_name = contact_fields.name_field(required=False)
    contact_title = contact_fields.title_field()
    contact_phone = contact_fields.phone_field()
    contact_wechat = contact_fields.wechat_field()
    contact_email = contact_fields.email_field()
    submit = SubmitField(_l("Save"))

    CONTACT_FIELDS = ("contact_name", "contact_title", "contact_phone", "contact_wechat", "contact_email")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.contact_name.data and any(getattr(self, f).data for f in self.CONTACT_FIELDS[1:]):
            self.contact_name.errors = list(self.contact_name.errors) + [_l("Give the contact's name.")]
            valid = False
        return valid

    def first_contact(self) -> dict | None:
        """The contact entered with a new lead, or None."""
        data = {f[len("contact_"):]: getattr(self, f).data for f in self.CONTACT_FIELDS}
        return data if data["name"] else None

    def validate_uscc(self, field):
        field.data = validate_uscc(field.data)

    def validate_chain_node_id(self, field):
        node_chain = self._node_chain.get(field.data) if field.data else None
        if field.data and self.chain_id.data and node_chain != self.chain_id.data:
            raise ValidationError(_l("This node belongs to another industry chain."))

    def validate_source_kind(self, field):
        kind = self._source_kinds.get(self.source_id.data) if self.source_id.data else None
        if kind and field.data and field.data != kind:
            raise ValidationError(_l("The source kind differs from the kind of the chosen source."))

    def set_choices(self, chains, sources, officers):
        self.chain_id.choices = [(None, "—")] + [(c.id, c.name) for c in chains]
        self.chain_node_id.choices = [(None, "—")] + [
            SelectChoice(n.id, f"{c.name} · {n.name}", {"data-chain": str(c.id)}) for c in chains for n in c.nodes]
        self._node_chain = {n.id: c.id for c in chains for n in c.nodes}
        self.source_id.choices = [(None, "—")] + [(s.id, f"{s.name}（{s.kind_label}）") for s in sources]
        self._source_kinds = {s.id: s.kind for s in sources}
        self.owner_id.choices = [(None, "—")] + [(u.id, u.display_name) for u in officers]

    LEAD_FIELDS = ("company_name", "uscc", "project_name", "chain_id", "chain_node_id", "source_id",
                   "source_kind", "origin_region", "planned_investment_wan",
                   "fixed_asset_investment_wan", "land_area_mu", "expected_output_wan",
                   "expected_tax_wan", "high_tech", "specialized", "patents", "rd_ratio", "jobs",
                   "owner_id", "created_on", "note")

    def lead_data(self) -> dict:
        data = {name: getattr(self, name).data for name in self.LEAD_FIELDS}
        for key in ("company_name", "project_name", "origin_region", "note"):
            if isinstance(data[key], str):
                data[key] = data[key].strip() or None
        data["source_kind"] = data["source_kind"] or None
        return data


class StageForm(FlaskForm):
    to_stage = SelectField(_l("Move to"), validators=[DataRequired()])
    on_date = DateField(_l("Date"), validators=[Optional(), DateInRange(planned=True)])  # the future: services
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])
    version = HiddenField()
    submit = SubmitField(_l("Change stage"))


class ActivityForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[(k.value, l) for k, l in ACTIVITY_KIND_LABELS.items()])
    occurred_on = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date.")), DateInRange(planned=True)])
    summary = TextAreaField(_l("What happened"), validators=[DataRequired(message=_l("Describe the follow-up.")), Length(max=5000)])
    next_follow_up_on = DateField(_l("Next follow-up"), validators=[Optional(), DateInRange(planned=True)])
    submit = SubmitField(_l("Add follow-up"))

    def validate_next_follow_up_on(self, field):
        if field.data and self.occurred_on.data and field.data < self.occurred_on.data:
            raise ValidationError(_l("The next follow-up cannot be before the follow-up itself."))


def fill_lead_choices(form: LeadForm, unit_id: int, user) -> None:
    """Chains, sources and the unit's officers; only team leads may hand a lead to a colleague."""
    from sqlalchemy import select

    from crm.auth.roles import Permission
    from crm.chains.models import Chain
    from crm.extensions import db
    from crm.leads.models import Source
    from crm.leads.queries import unit_officers

    chains = db.session.scalars(select(Chain).order_by(Chain.position, Chain.name)).all()
    sources = db.session.scalars(select(Source).order_by(Source.kind, Source.name)).all()
    officers = unit_officers(unit_id)
    if not user.can(Permission.LEADS_ASSIGN):
        keep = {user.id, form.owner_id.object_data}
        officers = [u for u in officers if u.id in keep]
    form.set_choices(chains, sources, officers)

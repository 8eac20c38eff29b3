"""Helpers shared by every feature's forms."""
from __future__ import annotations

from decimal import InvalidOperation

from flask import flash
from wtforms import DecimalField


def attach_error(form, exc) -> None:
    """Show a rule's message (an exception with `.field`) under its field, or as a banner."""
    field = getattr(form, exc.field, None) if getattr(exc, "field", None) else None
    if field is not None:
        field.errors = list(field.errors) + [str(exc)]
    else:
        flash(str(exc), "danger")


class AmountField(DecimalField):
    """A DecimalField whose stored value always renders: WTForms rounds the value to `places`,
    which raises for ∞, NaN or more digits than Decimal holds (1e30) — values stored before the
    ranges were enforced, which the edit page must show so that they can be corrected."""

    def _value(self):
        try:
            return super()._value()
        except (InvalidOperation, ValueError, OverflowError):
            return str(self.data)

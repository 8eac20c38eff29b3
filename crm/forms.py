"""Helpers shared by every feature's forms."""
from __future__ import annotations

from flask import flash


def attach_error(form, exc) -> None:
    """Show a rule's message (an exception with `.field`) under its field, or as a banner."""
    field = getattr(form, exc.field, None) if getattr(exc, "field", None) else None
    if field is not None:
        field.errors = list(field.errors) + [str(exc)]
    else:
        flash(str(exc), "danger")

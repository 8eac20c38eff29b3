"""The on-demand bulletin form: a period as the cockpit reads it (crm.dashboard.period.parse)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField


class MakeBulletinForm(FlaskForm):
    """CSRF and the period's raw values; the period itself is read by crm.dashboard.period.parse,
    whose messages say what is wrong with it."""

    period = StringField()
    year = StringField()
    quarter = StringField()
    month = StringField()
    start = StringField()
    end = StringField()

    def period_args(self) -> dict:
        return {name: (getattr(self, name).data or "").strip()
                for name in ("period", "year", "quarter", "month", "start", "end")}

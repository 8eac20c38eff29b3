"""The tracking thresholds (one row, DOMAIN.md's defaults until an administrator changes them)."""
from __future__ import annotations

from crm.extensions import db
from crm.tracking.models import TrackingSettings

SETTING_FIELDS = ("stale_months", "red_late_months", "investment_behind_pct", "started_not_completed_years",
                  "completed_not_producing_years", "not_started_months", "low_tax_per_mu_wan",
                  "reminder_days_before", "assignment_days_overdue", "reply_working_days", "investment_met_pct")


def get_settings() -> TrackingSettings:
    """The row, created with the defaults on first use (flushed, committed with the request)."""
    settings = db.session.get(TrackingSettings, 1)
    if settings is None:
        settings = TrackingSettings(id=1)
        for column in TrackingSettings.__table__.columns:
            if column.default is not None and getattr(settings, column.key) is None:
                setattr(settings, column.key, column.default.arg)
        db.session.add(settings)
        db.session.flush()
    return settings


def peek_settings() -> TrackingSettings:
    """For read-only pages and jobs that must not write: the row, or an unsaved one with the defaults."""
    settings = db.session.get(TrackingSettings, 1)
    if settings is not None:
        return settings
    settings = TrackingSettings(id=1)
    for column in TrackingSettings.__table__.columns:
        if column.default is not None:
            setattr(settings, column.key, column.default.arg)
    return settings


def save_settings(data: dict) -> TrackingSettings:
    settings = get_settings()
    for key in SETTING_FIELDS:
        if key in data and data[key] is not None:
            setattr(settings, key, data[key])
    db.session.flush()
    return settings

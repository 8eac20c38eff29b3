"""The one place the workflow asks for the time, so tests and demos can fix it (CRM_CLOCK_NOW)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def now() -> datetime:
    """Aware UTC now, or the configured fixed moment."""
    fixed = current_app.config.get("CLOCK_NOW") if has_app_context() else None
    if fixed:
        value = fixed if isinstance(fixed, datetime) else datetime.fromisoformat(fixed)
        if value.tzinfo is None:
            raise ValueError("CRM_CLOCK_NOW needs a UTC offset, e.g. 2026-11-23T09:00:00+08:00")
        return value.astimezone(timezone.utc)
    return datetime.now(timezone.utc)


def local_zone() -> ZoneInfo:
    name = current_app.config.get("TIMEZONE", "Asia/Shanghai") if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def today():
    """The county's local date now."""
    return now().astimezone(local_zone()).date()

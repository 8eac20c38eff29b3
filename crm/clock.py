"""The one place the workflow asks for the time, so tests and demos can fix it (CRM_CLOCK_NOW)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import os

from flask import current_app, has_app_context


def now() -> datetime:
    """Aware UTC now, or the configured fixed moment (the app's CLOCK_NOW; outside an app
    context, as in a script or a test calling a service directly, the CRM_CLOCK_NOW variable)."""
    fixed = current_app.config.get("CLOCK_NOW") if has_app_context() else os.environ.get("CRM_CLOCK_NOW")
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


@contextmanager
def fixed_at(day):
    """Within the block, now() is local noon of `day` (a demo built for another day computes its
    lights and letters as of that day). Only for seeding and tests: it changes the app's config."""
    from datetime import time

    moment = datetime.combine(day, time(12), tzinfo=local_zone())
    previous = current_app.config.get("CLOCK_NOW")
    current_app.config["CLOCK_NOW"] = moment
    try:
        yield moment
    finally:
        current_app.config["CLOCK_NOW"] = previous

"""Cockpit section 'by_origin' (placeholder: filled in by its part of issue 16)."""
from __future__ import annotations

from crm.dashboard.sections import Context


def by_origin(ctx: Context) -> dict:
    return {}

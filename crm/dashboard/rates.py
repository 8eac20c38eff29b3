"""Cockpit section 'rates' (placeholder: filled in by its part of issue 16)."""
from __future__ import annotations

from crm.dashboard.sections import Context


def rates(ctx: Context) -> dict:
    return {}

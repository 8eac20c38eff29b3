"""Cockpit section 'funnel' (placeholder: filled in by its part of issue 16)."""
from __future__ import annotations

from crm.dashboard.sections import Context


def funnel(ctx: Context) -> dict:
    return {}

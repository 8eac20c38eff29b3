"""Cockpit section 'watch' (placeholder: filled in by its part of issue 16)."""
from __future__ import annotations

from crm.dashboard.sections import Context


def watch(ctx: Context) -> dict:
    return {}

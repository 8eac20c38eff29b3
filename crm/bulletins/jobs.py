"""The bulletin's periodic job (placeholder: filled in by its part of issue 16)."""
from __future__ import annotations


def monthly() -> None:
    """On the first working day of a month: last month's bulletin, once (idempotent)."""

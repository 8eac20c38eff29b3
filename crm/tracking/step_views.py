"""Routes of the tracking blueprint for steps (registered on crm.tracking.views.bp)."""
from __future__ import annotations

from crm.tracking.views import bp  # noqa: F401

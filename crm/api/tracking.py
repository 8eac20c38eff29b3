"""/api/v1 routes of crm.tracking, with their OpenAPI paths (added to crm.api.openapi.DOCUMENT here)."""
from __future__ import annotations

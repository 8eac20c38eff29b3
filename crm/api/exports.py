"""GET /api/v1/leads/export (filled in by the export work)."""

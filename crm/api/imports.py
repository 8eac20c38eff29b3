"""POST /api/v1/imports, GET /api/v1/imports/<id> (filled in by the import work)."""

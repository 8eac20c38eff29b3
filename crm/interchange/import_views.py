"""Import routes (filled in by the import work)."""

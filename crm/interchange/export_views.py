"""Export routes (filled in by the export work)."""

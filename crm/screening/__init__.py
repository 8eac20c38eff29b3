"""The three-day instant pre-screening (即时初审)."""

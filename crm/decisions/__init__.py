"""Collective decision by the leadership group (集体决策)."""

"""/ranking: the ranking page and its Excel export (filled in by its part of issue 16)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ranking", __name__)

"""/bulletins: list, page, Word file and on-demand making (filled in by its part of issue 16)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bulletins", __name__)

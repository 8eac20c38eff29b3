"""The lead interchange file: import (upload, preview, confirm, background job, report, undo) and
export (the filtered lead list as .xlsx/.csv). One blueprint; routes live in the two modules."""
from flask import Blueprint

bp = Blueprint("interchange", __name__)

from crm.interchange import export_views, import_views  # noqa: E402,F401  (routes register on bp)

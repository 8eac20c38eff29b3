"""Word files the offices edit, stamp and send (the one-time notice, the minutes)."""
from __future__ import annotations

import io
from urllib.parse import quote

from flask import Response

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_response(doc, ascii_name: str, name: str) -> Response:
    """A python-docx Document as a download; `name` is the Chinese file name browsers show."""
    buffer = io.BytesIO()
    doc.save(buffer)
    return Response(buffer.getvalue(), mimetype=DOCX, headers={
        "Content-Disposition": f"attachment; filename={ascii_name}; filename*=UTF-8''{quote(name)}"})

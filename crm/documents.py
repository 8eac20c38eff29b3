"""Downloads: Word files the offices edit, stamp and send (the one-time notice, the minutes),
and spreadsheets (the lead export, the 招商作战表)."""
from __future__ import annotations

import io
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from urllib.parse import quote

from flask import Response, send_file, stream_with_context

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SPREADSHEET_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def attachment(response: Response, name: str) -> None:
    """Content-Disposition as send_file writes it: an ASCII fallback and the UTF-8 name
    (RFC 6266 / RFC 5987 filename*), so every download is named the same way."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    response.headers.set("Content-Disposition", "attachment", filename=fallback or "download",
                         **{"filename*": "UTF-8''" + quote(name, safe="!#$&+^`|~")})


def spreadsheet_response(fmt: str, name: str, csv_chunks: Callable[[], Iterator[bytes]],
                         write_xlsx: Callable[[object], object]) -> Response:
    """csv is streamed while it is read from the database (memory stays flat, the first bytes
    leave at once; the query runs in the streaming context's session). XlsxWriter must seek back
    to write the zip directory, so an .xlsx is built in an unnamed temp file first, which
    disappears by itself when send_file closes it after the last byte."""
    if fmt == "csv":
        response = Response(stream_with_context(csv_chunks()), mimetype=SPREADSHEET_TYPES["csv"])
        attachment(response, name)
        return response
    spool = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        write_xlsx(spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return send_file(spool, mimetype=SPREADSHEET_TYPES["xlsx"], as_attachment=True, download_name=name, max_age=0)


def docx_response(doc, ascii_name: str, name: str) -> Response:
    """A python-docx Document as a download; `name` is the Chinese file name browsers show."""
    buffer = io.BytesIO()
    doc.save(buffer)
    return Response(buffer.getvalue(), mimetype=DOCX, headers={
        "Content-Disposition": f"attachment; filename={ascii_name}; filename*=UTF-8''{quote(name)}"})

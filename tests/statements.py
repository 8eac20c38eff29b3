"""Recording the SQL statements a piece of code runs (tests that bound a page's queries)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from crm.extensions import db


@contextmanager
def recorded_statements():
    """Yields a list that fills with every statement run on the test session's engine."""
    engine = db.session.get_bind()
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)

"""Many rows of one shape written at once: COPY on PostgreSQL (several times faster than
INSERT), an executemany elsewhere; inside `streamed_copies` the COPYs are written by a thread on
the same connection while the caller goes on (the import: PostgreSQL checks and indexes one
chunk while Python checks the next)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import JSON, event, insert

from crm import data_version
from crm.database import note_write


def bulk_insert(session, table, rows: list[dict]) -> None:
    """Many rows of one shape: COPY on PostgreSQL (several times faster than INSERT), else an
    executemany. Runs on the session's connection, inside its transaction; inside
    streamed_copies() the COPY is handed to the writer thread and this returns at once."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    data_version.written(session, table.name)  # COPY goes past the session's events
    note_write(session)
    columns = list(rows[0])
    as_json = frozenset(c for c in columns if isinstance(table.c[c].type, JSON))
    sql = f'COPY {table.name} ({", ".join(columns)}) FROM STDIN'
    driver = connection.connection.driver_connection
    stream = session.info.get(_COPY_STREAM)
    if stream is not None and stream.driver is driver:
        stream.submit(sql, _copy_data(driver, columns, as_json, rows))
    else:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            _write_rows(copy, columns, as_json, rows)


def _write_rows(copy, columns: list[str], as_json: frozenset, rows: list[dict]) -> None:
    from psycopg.types.json import Json

    for row in rows:
        copy.write_row([Json(row[c]) if c in as_json and row[c] is not None else row[c] for c in columns])


def _copy_data(driver, columns: list[str], as_json: frozenset, rows: list[dict]) -> bytes:
    """The rows in COPY's text format, made in the caller's thread (psycopg's own formatting,
    into a buffer: its FileWriter) so that the writer thread needs the GIL hardly at all."""
    import io

    from psycopg.copy import Copy, FileWriter

    out = io.BytesIO()
    with driver.cursor() as cursor, Copy(cursor, writer=FileWriter(out)) as copy:
        _write_rows(copy, columns, as_json, rows)
    return out.getvalue()


def _send(driver, sql: str, data: bytes) -> None:
    """One COPY of formatted rows; its end waits for the server (without the GIL)."""
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(data)


_COPY_STREAM = "crm_copy_stream"


class _CopyStream:
    """One thread that runs the queued COPYs in order on the session's own psycopg connection.
    psycopg waits for the server without the GIL, so PostgreSQL's share of a COPY (parsing,
    index updates, foreign-key checks at its end) runs on the other core while the caller's
    thread goes on in Python. Any other statement on the connection first waits for the queue
    (barrier), so the order of the writes is the order of the calls."""

    def __init__(self, driver, depth: int = 16):
        import queue
        import threading

        self.driver = driver
        self._jobs: queue.Queue = queue.Queue(maxsize=depth)  # bounded: rows waiting stay few
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="crm-copy", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                if self._error is None:  # after a failure the transaction is lost: skip the rest
                    _send(self.driver, *job)
            except BaseException as exc:  # noqa: BLE001  (handed to the caller's thread)
                self._error = exc
            finally:
                self._jobs.task_done()
        self._jobs.task_done()

    def submit(self, sql: str, data: bytes) -> None:
        self._raise()
        self._jobs.put((sql, data))

    def barrier(self, *_args) -> None:
        """Wait until every queued COPY is written; raise the writer's error, if any."""
        self._jobs.join()
        self._raise()

    def settle(self, *_args) -> None:
        """Wait for the queue without raising (a rollback discards the COPYs either way)."""
        self._jobs.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()


@contextmanager
def streamed_copies(session):
    """bulk_insert() in the block returns at once on PostgreSQL, its COPY written by a thread
    on the same connection and transaction while the caller goes on; the block's end (and any
    other statement in it) waits for the COPYs, and a COPY's error is raised in the caller's
    thread there, so the transaction rolls back as it would have. SQLite: nothing changes."""
    connection = session.connection()
    if connection.dialect.name != "postgresql" or _COPY_STREAM in session.info:
        yield
        return
    stream = _CopyStream(connection.connection.driver_connection)
    session.info[_COPY_STREAM] = stream
    # Statements, a commit and a rollback reach the server only after the queued COPYs.
    listeners = (("before_cursor_execute", stream.barrier), ("commit", stream.barrier), ("rollback", stream.settle))
    for identifier, fn in listeners:
        event.listen(connection, identifier, fn)
    try:
        yield
        stream.barrier()
    finally:
        stream.stop()  # also on an error: the thread is done with the connection before a rollback
        for identifier, fn in listeners:
            event.remove(connection, identifier, fn)
        session.info.pop(_COPY_STREAM, None)

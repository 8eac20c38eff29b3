"""SQLAlchemy 2 typed models' base, and the per-process engine and scoped session."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic can drop/alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime; use crm.database.utcnow()")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


def listen_once(target, identifier: str, fn) -> None:
    """Connect a SQLAlchemy event listener unless it is already connected: features connect their
    session listeners from create_app (explicitly, however often an app is made), never on import."""
    if not event.contains(target, identifier, fn):
        event.listen(target, identifier, fn)


def utcnow() -> datetime:
    """Aware UTC now for timestamps, from crm.clock (so a fixed clock fixes them too)."""
    from crm import clock

    return clock.now()


# SQLite: True while a reading request (GET, HEAD, OPTIONS) runs; its transactions BEGIN deferred,
# so it reads beside a writer (WAL) instead of queueing for the write lock behind it.
_reading: ContextVar[bool] = ContextVar("crm_reading_request", default=False)
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def begin_writing(session) -> None:
    """A reading request that is about to write (its first change, e.g. a page that keeps what
    it computed): its read transaction ends here (nothing written yet) and the next begins as a
    writing request's does. Written in the read transaction instead, the change could fail at
    once with "database is locked" whenever another process committed since its first read
    (SQLite's snapshot rule, which no busy timeout waits out)."""
    session.commit()
    _reading.set(False)


def bulk_insert(session, table, rows: list[dict]) -> None:
    """Many rows of one shape: COPY on PostgreSQL (several times faster than INSERT), else an
    executemany. Runs on the session's connection, inside its transaction; inside
    streamed_copies() the COPY is handed to the writer thread and this returns at once."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        from sqlalchemy import insert

        session.execute(insert(table), rows)
        return
    from crm import data_version

    data_version.written(session, table.name)  # COPY goes past the session's events
    from sqlalchemy import JSON

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


def _make_engine(url: str, echo: bool = False, sqlite_immediate: bool = True) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):
            # Let SQLAlchemy, not pysqlite, emit BEGIN so SAVEPOINTs work (SQLAlchemy docs,
            # "Serializable isolation / Savepoints / Transactional DDL").
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")  # web and worker read while one writes
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # IMMEDIATE: take the write lock when the transaction starts. A deferred transaction
            # that reads, then writes after another process committed (web + worker), fails at
            # once with "database is locked" (SQLite's snapshot rule; busy_timeout cannot help).
            # Reading requests begin deferred: they never wait for the lock, and write only after
            # begin_writing.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_immediate and not _reading.get() else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Database:
    """Holds the engine and the scoped session; `Migrate(app, db)` reads `.engine`/`.metadata`."""

    Model = Base

    def __init__(self) -> None:
        self.metadata = Base.metadata
        self.session = scoped_session(sessionmaker(expire_on_commit=False))
        self.engine: Engine | None = None

    def init_app(self, app) -> None:
        self.engine = _make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False),
                                   sqlite_immediate=app.config.get("SQLITE_IMMEDIATE", True))
        self.session.remove()
        self.session.configure(bind=self.engine)

        @app.teardown_appcontext
        def _remove_session(_exc):
            self.session.remove()

        from flask import g, request

        @app.before_request
        def _reading_request():
            # The first hook of the app (db is the first extension): no statement ran yet.
            _reading.set(request.method in READING_METHODS and not g.get("crm_retried_as_writing"))

        @app.teardown_request
        def _request_ended(_exc):
            _reading.set(False)
            g.pop("crm_retried_as_writing", None)

        if app.config["DATABASE_URL"].startswith("sqlite"):
            _retry_reading_requests_that_write(app, self.session)


def _retry_reading_requests_that_write(app, session) -> None:
    """Some reading requests write (an API token's last use, the audit of a download, a paper's
    document number). In a deferred transaction the write fails at once ("database is locked")
    when another process committed since the request's first read (no busy timeout waits that
    out); the request then runs once more, whole, as a writing one: BEGIN IMMEDIATE waits its
    turn. Nothing of the first run was written (its transaction rolled back)."""
    from flask import g, request
    from sqlalchemy.exc import OperationalError

    full_dispatch = app.full_dispatch_request

    def full_dispatch_request():
        if request.method not in READING_METHODS:
            return full_dispatch()
        try:
            return full_dispatch()
        except OperationalError as exc:
            if "database is locked" not in str(exc.orig):
                raise
            session.rollback()
            g.crm_retried_as_writing = True  # the before_request hook leaves _reading off
            return full_dispatch()

    app.full_dispatch_request = full_dispatch_request

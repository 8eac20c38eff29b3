"""SQLAlchemy 2 typed models' base, and the per-process engine and scoped session."""
from __future__ import annotations

import time
from contextvars import ContextVar
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
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


_WRITES = "crm_writes"


def writes(session) -> int:
    """How many times the session has written so far (flushes with changes, Core INSERT, UPDATE
    or DELETE run through it, bulk writes): a figure read earlier in the request is still true
    while this has not moved."""
    return session.info.get(_WRITES, 0)


def note_write(session) -> None:
    """A write the session's events do not see (COPY or a statement on its connection)."""
    session.info[_WRITES] = writes(session) + 1


def _flushed(session, _context) -> None:
    note_write(session)


def _executed(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        note_write(state.session)


def count_writes() -> None:
    """Called once from create_app: every session counts its writes (see `writes`)."""
    listen_once(Session, "after_flush", _flushed)
    listen_once(Session, "do_orm_execute", _executed)


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
    engine = create_engine(url, echo=echo, pool_size=5, max_overflow=5)
    _ping_connections_left_idle(engine)
    return engine


# A pooled connection unused this long is tested before use (a server restarted, a firewall's idle
# timeout). Under load every checkout would otherwise pay the round trip of pool_pre_ping.
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_connections_left_idle(engine: Engine) -> None:
    """pool_pre_ping, for connections that sat in the pool PING_AFTER_IDLE_SECONDS or more (the
    custom pessimistic ping of SQLAlchemy's "Dealing with Disconnects"): a dead one raises
    DisconnectionError, and the pool replaces it and tries again. A connection that died sooner is
    found by its first statement; SQLAlchemy then invalidates the pool's older connections, so that
    costs one failed request per process."""
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["crm_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("crm_idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # just connected, or back in the pool moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError("the pooled connection was closed by the server") from error


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

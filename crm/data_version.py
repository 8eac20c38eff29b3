"""The data version: a Redis counter raised whenever the data that figures and counts read changes.

Caches keyed by it (the cockpit's sections, crm.dashboard.cache; the lead list's total,
crm.leads.counts) are stale the moment it moves, without knowing who wrote what. It is raised
whenever a session flushes or commits a change to any table but a few that no cached figure
reads (the audit log, notifications, accounts, scores, the papers' counters…): ORM objects
(after_flush), Core statements run through the session (do_orm_execute) and bulk writes that
go past the session's events (`written`, called by crm.bulk.bulk_insert), from the web and
from the workers alike. It is raised at the flush (before the commit) and again after the
commit, so a reader between the two cannot keep the old data under the new version. Writes that
bypass the app (psql, COPY in a benchmark) are caught only by each cache's time limit.

A second counter, the accounts version, moves when an account is added or removed, or its name,
unit or being active changes (ACCOUNT_TABLES): it is for a cache that shows people's names or
lists a unit's officers (the lead list's pages, crm.leads.page_cache). The data version leaves
accounts out, and neither moves with a login (which writes its account's last login).

Connected once by create_app (a core listener, as the audit log's), so every feature may read
the version whether or not the cockpit is installed.
"""
from __future__ import annotations

import logging
from itertools import chain

from flask import current_app, has_app_context
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from crm.database import listen_once
from crm.extensions import redis_store

log = logging.getLogger(__name__)

_DIRTY = "data_version_dirty"
_ACCOUNTS_DIRTY = "accounts_version_dirty"
# Tables no cached figure or count reads: writing them leaves the caches as they are. (Accounts
# are left out: a count that depends on who asks is keyed by the asker's unit and rights.)
IGNORED_TABLES = frozenset({
    "audit_log", "notifications", "users", "user_roles", "api_tokens", "scoring_models", "lead_scores",
    "scoring_settings", "bulletins", "paper_settings", "document_counters", "document_numbers",
    "import_batches", "imported_leads", "attachments"})
# Tables whose writes move the accounts version, with the columns that matter when a row is
# changed through the ORM (names, who is an active officer of which unit): a login, which sets
# its account's last login and session token, leaves the version alone.
ACCOUNT_TABLES = {"users": ("username", "full_name", "active", "unit_id")}


def key() -> str:
    """The counter's Redis key (a reader may fetch it with its own entries in one MGET)."""
    return f"{current_app.config['REDIS_PREFIX']}:data_version"


def accounts_key() -> str:
    """The accounts version's Redis key."""
    return f"{current_app.config['REDIS_PREFIX']}:accounts_version"


def version() -> int:
    """The current version (raises when Redis does not answer: the caller computes afresh)."""
    return int(redis_store.client.get(key()) or 0)


def bump(counter_key=key) -> None:
    """A change a cached figure may read was written: what is cached is stale from now on."""
    if not has_app_context():
        return  # a test's own flush outside any request: the caches are off under TESTING anyway
    try:
        redis_store.client.incr(counter_key())
    except Exception:  # noqa: BLE001  (Redis down: the writer must not fail; entries expire)
        log.warning("data version: could not raise %s", counter_key(), exc_info=True)


def counts(table_name: str | None) -> bool:
    return table_name is not None and table_name not in IGNORED_TABLES


def _tables_written(session: Session, table_names) -> None:
    """Raise each counter the written tables move, now and (by the flag) again after the commit."""
    names = set(table_names)
    if any(counts(name) for name in names):
        session.info[_DIRTY] = True
        bump()
    if names & ACCOUNT_TABLES.keys():
        session.info[_ACCOUNTS_DIRTY] = True
        bump(accounts_key)


def written(session: Session, table_name: str) -> None:
    """A write the session's events do not see (COPY on the session's connection, a statement
    on `session.connection()`): raise the version now and again after the commit."""
    _tables_written(session, (table_name,))


def _table_of(obj, changed: bool) -> str | None:
    """The table a flushed object writes; None for an account changed in no column that matters."""
    name = getattr(obj, "__tablename__", None)
    if changed and name in ACCOUNT_TABLES:
        state = inspect(obj)
        if not any(state.attrs[column].history.has_changes() for column in ACCOUNT_TABLES[name]):
            return None
    return name


def _after_flush(session: Session, _context) -> None:
    # (Called with the flush's new, dirty and deleted objects and their history still in place.)
    _tables_written(session, chain((_table_of(obj, False) for obj in chain(session.new, session.deleted)),
                                   (_table_of(obj, True) for obj in session.dirty)))


def _on_execute(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _tables_written(state.session, (getattr(table, "name", None),))


def _after_end(session: Session, *_args) -> None:
    if session.info.pop(_DIRTY, False):
        bump()
    if session.info.pop(_ACCOUNTS_DIRTY, False):
        bump(accounts_key)


def connect() -> None:
    """Called once from create_app."""
    for name, fn in (("after_flush", _after_flush), ("do_orm_execute", _on_execute),
                     ("after_commit", _after_end), ("after_soft_rollback", _after_end)):
        listen_once(Session, name, fn)

"""The lead list's total ("N leads"), kept in Redis until the data changes.

At 100,000 leads the count is the list's dearest statement (1–2 ms of PostgreSQL per page, the
page itself 0.1–0.9 ms) and it is the same for every page and sort of one filter. The entry's
key is made of everything the count depends on: whose leads the user may read
(`visibility_scope`) and every filter (`LeadFilters.args()` without the sort, which is also what
the page's links carry). Its value is "<data version>:<count>"; the version (crm.data_version)
moves with any write to the leads or the stages they reached, and the reader fetches it with the
entry in one MGET and takes the entry only when both versions agree.

Only totals of `LEAD_COUNT_CACHE_MIN` leads or more are stored (1,000 by default): a smaller
count costs about what storing it would. `LEAD_COUNT_CACHE_SECONDS` (600 by default) bounds an
entry's life; 0 turns the cache off. Unset, it is on only on PostgreSQL and never under TESTING
(tests turn it on): PostgreSQL counts in a snapshot taken when the statement starts, after the
version was read, so a stored count is never older than its version. SQLite reads a whole
transaction from the snapshot of its first statement, which may predate the version read; its
databases are small anyway. When Redis does not answer the count is computed, and Redis is not
asked again for a little while.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time

from flask import current_app

from crm import data_version
from crm.extensions import db, redis_store
from crm.leads.queries import LeadFilters, count_leads, visibility_scope

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 600
DEFAULT_MIN = 1000
_PAUSE_AFTER_ERROR = 30.0  # seconds without asking Redis after it failed (a down Redis must not slow every page)
_paused_until = 0.0


def seconds() -> int:
    configured = current_app.config.get("LEAD_COUNT_CACHE_SECONDS")
    if configured is None:
        on = not current_app.testing and db.engine.dialect.name == "postgresql"
        return DEFAULT_SECONDS if on else 0
    return int(configured)


def _entry_key(user, filters: LeadFilters) -> str:
    what = [visibility_scope(user), filters.args(sort=None)]
    digest = hashlib.sha1(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return f"{current_app.config['REDIS_PREFIX']}:leads:count:{digest}"


def redis_failed(what: str, exc: Exception) -> None:
    """Redis did not answer: the list's caches (this total, crm.leads.page_cache) leave it alone
    for a while."""
    global _paused_until
    _paused_until = time.monotonic() + _PAUSE_AFTER_ERROR
    log.warning("lead list cache: %s (%s); reading without it for %.0f s", what, exc, _PAUSE_AFTER_ERROR)


def redis_paused() -> bool:
    return time.monotonic() < _paused_until


def total(user, filters: LeadFilters, conds: list) -> int:
    """The number of leads `conds` (filters.conditions(user)) match: cached when it may be."""
    ttl = seconds()
    if ttl <= 0 or redis_paused():
        return count_leads(conds)
    key = _entry_key(user, filters)
    try:
        current, cached = redis_store.client.mget([data_version.key(), key])
    except Exception as exc:  # noqa: BLE001  (Redis away: count as without the cache)
        redis_failed("not read", exc)
        return count_leads(conds)
    current = int(current or 0)
    if cached is not None:
        stored_version, _sep, count = cached.partition(b":")
        if int(stored_version) == current:
            return int(count)
    count = count_leads(conds)
    if count >= int(current_app.config.get("LEAD_COUNT_CACHE_MIN", DEFAULT_MIN)):
        try:
            redis_store.client.set(key, f"{current}:{count}", ex=ttl)
        except Exception as exc:  # noqa: BLE001
            redis_failed("not stored", exc)
    return count

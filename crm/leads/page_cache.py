"""The lead list's pages, kept in Redis until the data or the accounts change.

A page of the list is its fifty rows (with the names of their chains, nodes, sources, units and
officers), the filters' choices and the total. Between two writes it is the same for everyone
who sees the same leads with the same filters, sort and cursor, and reading it costs three
statements and their round trips: at 100,000 leads, more than rendering the page does
(benchmarks/lead_list.py). So the page is kept, as the total is (crm.leads.counts), under a key
made of whose leads the user may read (`visibility_scope`), every filter with the sort and the
cursor, and the page's size. Its value holds the two versions it was read under: the data
version (leads, chains, sources, units, the stages reached…) and the accounts version (the
officers' names and who is an active officer; a login leaves it alone), both from
crm.data_version. An entry is used only while both are still current, so no page older than
the last write is ever shown; the page is rendered afresh on every request (language, today,
the user's top bar).

Whether it is on, and for how long an entry lives, follows the total's cache
(`LEAD_PAGE_CACHE_SECONDS`, unset: on only on PostgreSQL and never under TESTING, for the
reason crm.leads.counts gives); 0 turns it off. When Redis does not answer, the page is read from
the database and Redis is left alone for a little while (the total's pause, shared).

The value is pickled, as RQ pickles its jobs in the same Redis: both trust what Redis holds.
"""
from __future__ import annotations

import hashlib
import json
import logging
import pickle
from collections.abc import Callable
from typing import TypeVar

from flask import current_app

from crm import data_version
from crm.extensions import redis_store
from crm.leads import counts
from crm.leads.queries import LeadFilters, visibility_scope

log = logging.getLogger(__name__)

Page = TypeVar("Page")


def seconds() -> int:
    configured = current_app.config.get("LEAD_PAGE_CACHE_SECONDS")
    return counts.seconds() if configured is None else int(configured)


def _entry_key(user, filters: LeadFilters, per_page: int, shape: str) -> str:
    what = [visibility_scope(user), filters.args(), filters.cursor, per_page, shape]
    digest = hashlib.sha1(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return f"{current_app.config['REDIS_PREFIX']}:leads:page:{digest}"


def cached(user, filters: LeadFilters, per_page: int, read: Callable[[], Page], shape: str) -> Page:
    """`read()`'s page, from Redis while nothing it shows has been written since it was kept.
    `shape` names the page's fields: after an upgrade that changes them, an entry the older code
    kept is never read (its key differs; one that cannot be read anyway is read afresh)."""
    ttl = seconds()
    if ttl <= 0 or counts.redis_paused():
        return read()
    key = _entry_key(user, filters, per_page, shape)
    try:
        data, accounts, entry = redis_store.client.mget([data_version.key(), data_version.accounts_key(), key])
    except Exception as exc:  # noqa: BLE001  (Redis away: read the page as without the cache)
        counts.redis_failed("page not read", exc)
        return read()
    # Read before the page: a write after this moment leaves the entry under the older versions.
    versions = (int(data or 0), int(accounts or 0))
    if entry is not None:
        try:
            stored_versions, page = pickle.loads(entry)
        except Exception:  # noqa: BLE001  (kept by other code, or damaged: read afresh, store anew)
            log.warning("lead page cache: an entry could not be read; reading the page afresh", exc_info=True)
        else:
            if stored_versions == versions:
                return page
    page = read()
    try:
        redis_store.client.set(key, pickle.dumps((versions, page), protocol=pickle.HIGHEST_PROTOCOL), ex=ttl)
    except Exception as exc:  # noqa: BLE001
        counts.redis_failed("page not stored", exc)
    return page

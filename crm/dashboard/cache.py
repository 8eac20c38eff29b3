"""The cockpit's sections, cached in Redis until the data changes.

At 100,000 leads each section is a few aggregates of tens of thousands of rows; leaders open the
same figures again and again while the data changes a few times an hour. A section registered
with `cache=True` (its dict depends only on the period, the scope and today) is stored as JSON
under a key made of: a data version, the section, the period, the scope, today and the language.

The data version is a Redis counter. It is raised whenever a session flushes or commits a change
to any table but a few that no figure reads (the audit log, notifications, accounts, scores, the
papers' counters…): ORM objects (after_flush) and Core statements run through the session
(do_orm_execute), from the web and from the workers alike, so the next reader computes afresh. It
is raised at the flush (before the commit) and again after the commit, so a reader between the
two cannot keep the old figures under the new version. Writes that bypass the session (psql,
COPY in a benchmark) are caught by the time limit: `DASHBOARD_CACHE_SECONDS` (600 by default; 0
turns the cache off; off by default under TESTING, where tests turn it on to test it).
"""
from __future__ import annotations

import hashlib
import json
import logging
from itertools import chain

from flask import current_app, has_app_context
from flask_babel import get_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from crm.dashboard import parallel
from crm.extensions import redis_store

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 600
_DIRTY = "dashboard_cache_dirty"
# Tables no cockpit figure reads: writing them leaves the cached figures as they are.
IGNORED_TABLES = frozenset({
    "audit_log", "notifications", "users", "user_roles", "api_tokens", "scoring_models", "lead_scores",
    "scoring_settings", "bulletins", "paper_settings", "document_counters", "document_numbers",
    "import_batches", "imported_leads", "attachments"})


def seconds() -> int:
    configured = current_app.config.get("DASHBOARD_CACHE_SECONDS")
    if configured is None:
        return 0 if current_app.testing else DEFAULT_SECONDS
    return int(configured)


def _key(*parts) -> str:
    return f"{current_app.config['REDIS_PREFIX']}:dashboard:" + ":".join(str(p) for p in parts)


def version() -> int:
    return int(redis_store.client.get(_key("version")) or 0)


def bump() -> None:
    """A change the figures may read was written: cached sections are stale from now on."""
    if not has_app_context():
        return  # a test's own flush outside any request: the cache is off under TESTING anyway
    try:
        redis_store.client.incr(_key("version"))
    except Exception:  # noqa: BLE001  (Redis down: the writer must not fail; entries expire)
        log.warning("dashboard cache: could not raise the data version", exc_info=True)


def _counts(table_name: str | None) -> bool:
    return table_name is not None and table_name not in IGNORED_TABLES


def _after_flush(session: Session, _context) -> None:
    if any(_counts(getattr(obj, "__tablename__", None))
           for obj in chain(session.new, session.dirty, session.deleted)):
        session.info[_DIRTY] = True
        bump()


def _on_execute(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if _counts(getattr(table, "name", None)):
            state.session.info[_DIRTY] = True
            bump()


def _after_end(session: Session, *_args) -> None:
    if session.info.pop(_DIRTY, False):
        bump()


def connect() -> None:
    """Called once when the cockpit is set up (crm.dashboard.queries)."""
    for name, fn in (("after_flush", _after_flush), ("do_orm_execute", _on_execute),
                     ("after_commit", _after_end), ("after_soft_rollback", _after_end)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


def _entry(ctx, section_key: str, data_version: int) -> str:
    period, scope = ctx.period, ctx.scope
    what = (section_key, period.kind, period.start.isoformat(), period.end.isoformat(), scope.unit_id,
            scope.chain_id, ctx.today.isoformat(), str(get_locale() or ""), current_app.config.get("APPLICATION_ROOT"))
    digest = hashlib.sha1(json.dumps(what, default=str).encode()).hexdigest()[:20]
    return _key("v", data_version, section_key, digest)


def compute(ctx, sections: list) -> dict[str, dict]:
    """Every section's dict, from the cache where it may be, computed (and stored) otherwise."""
    ttl = seconds()
    cacheable = [s for s in sections if getattr(s, "cache", False)] if ttl > 0 else []
    found: dict[str, dict] = {}
    keys: dict[str, str] = {}
    if cacheable:
        try:
            data_version = version()
            keys = {s.key: _entry(ctx, s.key, data_version) for s in cacheable}
            for section, raw in zip(cacheable, redis_store.client.mget(list(keys.values()))):
                if raw is not None:
                    found[section.key] = json.loads(raw)
        except Exception:  # noqa: BLE001  (Redis down: compute everything)
            log.warning("dashboard cache: not read", exc_info=True)
            keys = {}
    computed = parallel.compute(ctx, [s for s in sections if s.key not in found])
    for key, data in computed.items():
        if key in keys:
            try:
                redis_store.client.set(keys[key], json.dumps(data, default=str), ex=ttl)
            except Exception:  # noqa: BLE001
                log.warning("dashboard cache: not stored", exc_info=True)
    return {s.key: found[s.key] if s.key in found else computed[s.key] for s in sections}

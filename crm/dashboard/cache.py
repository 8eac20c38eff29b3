"""The cockpit's sections, cached in Redis until the data changes.

At 100,000 leads each section is a few aggregates of tens of thousands of rows; leaders open the
same figures again and again while the data changes a few times an hour. A section registered
with `cache=True` (its dict depends only on the period, the scope and today) is stored as JSON
under a key made of: a data version, the section, the period (unless the section declares its
figures as of today whatever the period: `period_bound=False`), the scope, today and the language.

The data version (crm.data_version, a core counter connected by create_app) moves whenever a
session writes a table the figures read, from the web and from the workers alike, so the next
reader computes afresh. Writes that bypass the app (psql, COPY in a benchmark) are caught by the
time limit: `DASHBOARD_CACHE_SECONDS` (600 by default; 0 turns the cache off; off by default
under TESTING, where tests turn it on to test it).
"""
from __future__ import annotations

import hashlib
import json
import logging

from flask import current_app
from flask_babel import get_locale

from crm.dashboard import parallel
from crm.data_version import version
from crm.extensions import redis_store

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 600


def seconds() -> int:
    configured = current_app.config.get("DASHBOARD_CACHE_SECONDS")
    if configured is None:
        return 0 if current_app.testing else DEFAULT_SECONDS
    return int(configured)


def _key(*parts) -> str:
    return f"{current_app.config['REDIS_PREFIX']}:dashboard:" + ":".join(str(p) for p in parts)


def _entry(ctx, section, data_version: int) -> str:
    period, scope = ctx.period, ctx.scope
    when = (period.kind, period.start.isoformat(), period.end.isoformat()) if section.period_bound else None
    # "data_version": the counter's name, so that entries keyed by the cockpit's former counter
    # (`dashboard:version`, restarted at 0 by this one) are never read after an upgrade.
    what = (section.key, when, scope.unit_id, scope.chain_id, ctx.today.isoformat(), str(get_locale() or ""),
            current_app.config.get("APPLICATION_ROOT"), "data_version")
    digest = hashlib.sha1(json.dumps(what, default=str).encode()).hexdigest()[:20]
    return _key("v", data_version, section.key, digest)


def compute(ctx, sections: list) -> dict[str, dict]:
    """Every section's dict, from the cache where it may be, computed (and stored) otherwise."""
    ttl = seconds()
    cacheable = [s for s in sections if getattr(s, "cache", False)] if ttl > 0 else []
    found: dict[str, dict] = {}
    keys: dict[str, str] = {}
    if cacheable:
        try:
            data_version = version()
            keys = {s.key: _entry(ctx, s, data_version) for s in cacheable}
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

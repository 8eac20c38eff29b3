"""The cockpit's sections computed side by side, each on its own database connection.

A first visit of a filter computes seven sections of aggregates; one after the other on one
connection they keep one database core busy while the others idle (issue 16: about 380 ms at
100,000 leads). Computed in threads, each thread with its own session (`db.session` is scoped
per thread) and so its own connection and transaction, PostgreSQL runs them on every core.

Each thread runs in a copy of the request's context variables: the same app, request, `g`
(locale, the logged-in user) and the SQLite reading flag, so `url_for`, translations and the
figures are exactly those of the serial path. The threads only read; each ends its session.
Sections may see snapshots a few milliseconds apart: a figure is consistent in itself, and a
change between them bumps the cache's data version, so the next reader computes afresh.

Side by side, each thread's transaction plans without PostgreSQL's own parallel workers
(`max_parallel_workers_per_gather = 0`): the threads already keep every core busy, and a Gather
per statement on top of them only added processes to start and wait for (about 12% more time
per first visit at 100,000 leads on two cores).

`DASHBOARD_WORKERS` sets the number of threads: 1 computes in the request's own thread. By
default 4 on PostgreSQL and 1 on SQLite and under TESTING, where a test's session is one
connection shared by everything (tests that set it use committed data).
"""
from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import text

from crm.extensions import db

DEFAULT_WORKERS = 4


def workers() -> int:
    configured = current_app.config.get("DASHBOARD_WORKERS")
    if configured is not None:
        return max(1, int(configured))
    if current_app.testing or db.engine.dialect.name != "postgresql":
        return 1
    return DEFAULT_WORKERS


def compute(ctx, sections: list) -> dict[str, dict]:
    """Each section's dict, in the sections' order."""
    count = min(workers(), len(sections))
    if count <= 1:
        return {section.key: section.compute(ctx) for section in sections}
    get_locale()  # settled once in this thread's `g` before the threads read it
    with ThreadPoolExecutor(count, thread_name_prefix="cockpit") as pool:
        # One copy of the context per task: a Context cannot be entered by two threads at once.
        futures = [pool.submit(contextvars.copy_context().run, _compute_alone, section, ctx)
                   for section in sections]
        return {section.key: future.result() for section, future in zip(sections, futures)}


def _compute_alone(section, ctx) -> dict:
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))  # see above
        return section.compute(ctx)
    finally:
        db.session.remove()  # this thread's session: its read transaction ends, the connection goes back

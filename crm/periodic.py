"""Periodic jobs, declared as data with fixed ids; `crm worker` enqueues them on time.

Each run has the id `<job id>-<slot>` (slot = the interval it belongs to), claimed in Redis with
SET NX before it is enqueued: however many workers tick, each slot is enqueued once.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from crm import clock
from crm.extensions import redis_store


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    func: str        # dotted path of the job function (takes no arguments)
    every: int       # seconds
    queue: str = "quick"
    offset: int = 0  # seconds after each UTC multiple of `every` (e.g. 18:00 UTC = 02:00 Beijing)


PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    # Pre-screening reminders ("one working day left") and closing at the deadline.
    PeriodicJob("screening-sweep", "crm.screening.jobs.sweep", every=60),
    # Leads still waiting for a score (saved while Redis was away, imported in bulk).
    PeriodicJob("score-pending", "crm.scoring.jobs.score_pending", every=60),
    # Everything once a night, so time-dependent figures (recency, source records) stay current.
    PeriodicJob("score-nightly", "crm.scoring.jobs.score_all", every=86400, queue="slow", offset=18 * 3600),
    # Uploaded import files past their retention (IMPORT_FILE_RETENTION_DAYS), daily at 03:00 Beijing.
    PeriodicJob("import-files-purge", "crm.interchange.jobs.purge_old_files", every=86400, offset=19 * 3600),
    # Every project's traffic light (亮灯预警), daily at 01:00 Beijing: dates passing change colours.
    PeriodicJob("lights-nightly", "crm.lights.jobs.nightly", every=86400, queue="slow", offset=17 * 3600),
    # 三函: reminder, assignment and supervision letters due today, at 01:30 Beijing (after the lights at 01:00).
    PeriodicJob("letters-nightly", "crm.letters.jobs.write_due_letters", every=86400, offset=17 * 3600 + 1800),
    # 督查通报: daily at 02:00 Beijing; on the month's first working day it writes last month's bulletin.
    PeriodicJob("bulletins-monthly", "crm.bulletins.jobs.monthly", every=86400, offset=18 * 3600),
    # Outbox rows (crm.outbox) finished or failed more than a week ago, daily at 04:00 Beijing.
    PeriodicJob("outbox-purge", "crm.outbox.purge", every=86400, offset=20 * 3600),
)


def enqueue_due(now: datetime | None = None, jobs=PERIODIC_JOBS) -> list[str]:
    """Enqueue each periodic job whose current slot has not been enqueued yet."""
    from crm.queue import get_queue

    moment = (now or clock.now()).timestamp()
    prefix = current_app.config["REDIS_PREFIX"]
    enqueued = []
    for spec in jobs:
        slot = int((moment - spec.offset) // spec.every)
        claim = f"{prefix}:periodic:{spec.id}:{slot}"
        if redis_store.client.set(claim, "1", nx=True, ex=spec.every * 3):
            job_id = f"{spec.id}-{slot}"
            get_queue(spec.queue).enqueue(spec.func, job_id=job_id, result_ttl=spec.every * 3)
            enqueued.append(job_id)
    return enqueued


class PeriodicThread(threading.Thread):
    """Runs beside a worker: every tick, each task inside the app context (by default, enqueue
    the periodic jobs that are due; `crm worker` adds the outbox sweeper)."""

    def __init__(self, app, tick: int, tasks=None):
        super().__init__(name="crm-periodic", daemon=True)
        self.app = app
        self.tick = tick
        self.tasks = list(tasks) if tasks is not None else [enqueue_due]
        self.stopping = threading.Event()

    def run(self) -> None:
        from crm.extensions import db

        while not self.stopping.is_set():
            for task in self.tasks:
                try:
                    with self.app.app_context():
                        task()
                except Exception:  # Redis or the database away for a moment: try again next tick
                    self.app.logger.exception("periodic: %s failed", getattr(task, "__name__", task))
                finally:
                    db.session.remove()  # this thread's session: no transaction held between ticks
            self.stopping.wait(self.tick)

"""RQ queues, the worker, and enqueueing after commit.

Jobs take ids, never ORM objects, and are enqueued only once the transaction that made their
data has committed (a worker may otherwise run before the row exists). The same transaction
records them in the outbox (crm.outbox), so a job Redis never got, or lost, still runs.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Worker
from sqlalchemy import event
from sqlalchemy.orm import Session

from crm.extensions import db, redis_store


@dataclass(frozen=True)
class QueueSpec:
    name: str
    timeout: int  # seconds a job may run before RQ kills it


# Quick work (scoring one lead, reminders, small imports) must not wait behind slow work.
QUEUES = {
    "quick": QueueSpec("quick", timeout=300),
    "slow": QueueSpec("slow", timeout=3600),
}


def _prefixed(name: str) -> str:
    return f"{current_app.config['REDIS_PREFIX']}:{name}"


def get_queue(name: str) -> Queue:
    spec = QUEUES[name]
    return Queue(_prefixed(spec.name), connection=redis_store.client, default_timeout=spec.timeout)


def enqueue_after_commit(queue_name: str, func, *args, job_id: str | None = None, retries: int = 0,
                         **kwargs) -> str:
    """Record the job in the outbox (crm.outbox) in this transaction and enqueue it once db.session
    commits; dropped if it rolls back. Arguments must be JSON (ids, not objects). `retries`: runs
    again after a worker died or the job failed (jobs must be idempotent). Returns the job id."""
    from crm import outbox

    session = db.session()
    session.connection()  # begin the transaction now, so its rollback also drops the job
    row = outbox.add(session, queue_name, func, args, kwargs, job_id, max_attempts=1 + retries)
    session.info.setdefault("pending_jobs", []).append((row.queue, row.func, row.args, row.kwargs, row.job_id))
    return row.job_id


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    pending = session.info.pop("pending_jobs", [])
    if not pending:
        return
    from crm import outbox

    for queue_name, func, args, kwargs, job_id in pending:
        try:
            outbox.enqueue(queue_name, func, args, kwargs, job_id)
        except (RedisError, OSError) as exc:
            # The row is committed: the sweeper of `crm worker` enqueues it once Redis is back.
            current_app.logger.warning("queue: Redis unreachable, job %s left to the outbox sweeper (%s)",
                                       job_id, exc)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole unit of work is gone, not a savepoint
        session.info.pop("pending_jobs", None)


# What a worker loads before forking each job's horse (the features register theirs in create_app:
# the core imports no feature).
PRELOADS: list[Callable[[], object]] = []


def register_preload(func: Callable[[], object]) -> None:
    if func not in PRELOADS:
        PRELOADS.append(func)


# A running job's heartbeat (RQ: every job_monitoring_interval) is trusted this many seconds more;
# after that its worker counts as dead (crm.jobstatus, crm.outbox.reap_abandoned). RQ's own margin
# is 60 s, which with its 30 s interval left a killed worker's job "running" for a minute and a half.
JOB_MONITORING_INTERVAL = 10
HEARTBEAT_GRACE = 20


class AppWorker(Worker):
    """Runs each job in a forked horse with its own database connections and session.

    Before each fork the worker makes sure what jobs need is already in this process (see
    `preload`), so a horse starts with scikit-learn imported and the active scoring models
    loaded instead of spending a second on that per job."""

    def preload(self) -> None:
        """Run what the features registered (crm.queue.register_preload: import their job modules,
        load the active scoring models) here, in the parent. Never fatal: a job does the same
        itself if this fails."""
        try:
            for func in PRELOADS:
                try:
                    func()
                except Exception:  # noqa: BLE001  (a missing table, a database away: the job will say)
                    current_app.logger.exception("worker: preloading %s failed", getattr(func, "__name__", func))
        finally:
            db.session.remove()  # no transaction (nor SQLite lock) held while the horse runs

    def execute_job(self, job, queue):
        self.preload()
        return super().execute_job(job, queue)

    def main_work_horse(self, job, queue):
        # Connections inherited through fork() belong to the parent; never reuse them.
        if db.engine is not None:
            db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)

    def subscribe(self) -> None:
        # RQ's listener thread (stop-job commands) sleeps 60 s while unsubscribed, and stopping the
        # worker joins it: every worker's exit (a burst's end, a restart) waited up to a minute.
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=1, daemon=True,
                                                       exception_handler=self._pubsub_exception_handler)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = min(job.timeout - working_time, interval)
        return int(interval) + HEARTBEAT_GRACE

    def perform_job(self, job, queue, execution):
        outbox_job = bool((job.meta or {}).get("outbox"))
        try:
            if outbox_job:
                self._outbox_mark("mark_started", job.id)
            ok = super().perform_job(job, queue, execution)
            if ok and outbox_job:
                self._outbox_mark("mark_finished", job.id)
            return ok
        finally:
            db.session.remove()

    @staticmethod
    def _outbox_mark(what: str, job_id: str) -> None:
        """The outbox row's attempts and end. A failure here only delays it: the sweeper reads the
        job's state from RQ as well."""
        from crm import outbox

        try:
            getattr(outbox, what)(job_id)
        except Exception:  # noqa: BLE001
            db.session.rollback()
            current_app.logger.exception("worker: outbox %s for %s failed", what, job_id)


def make_worker(queue_names: list[str], name: str | None = None) -> AppWorker:
    queues = [get_queue(n) for n in queue_names]
    # RQ's maintenance (registries cleaned, jobs of dead workers retried) every minute, not ten;
    # the outbox sweeper does the started registries on every tick as well.
    return AppWorker(queues, connection=redis_store.client, name=name, maintenance_interval=60,
                     job_monitoring_interval=JOB_MONITORING_INTERVAL)

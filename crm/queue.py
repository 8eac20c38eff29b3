"""RQ queues, the worker, and enqueueing after commit.

Jobs take ids, never ORM objects, and are enqueued only once the transaction that made their
data has committed (a worker may otherwise run before the row exists).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from rq import Queue, Retry, Worker
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
                         **kwargs) -> None:
    """Enqueue once db.session commits; dropped if it rolls back. `retries`: runs again after a
    worker died or the job failed (jobs must be idempotent)."""
    session = db.session()
    session.connection()  # begin the transaction now, so its rollback also drops the job
    pending = session.info.setdefault("pending_jobs", [])
    if retries:
        kwargs["retry"] = Retry(max=retries, interval=10)
    pending.append((queue_name, func, args, kwargs, job_id))


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    pending = session.info.pop("pending_jobs", [])
    for queue_name, func, args, kwargs, job_id in pending:
        get_queue(queue_name).enqueue(func, *args, job_id=job_id, **kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole unit of work is gone, not a savepoint
        session.info.pop("pending_jobs", None)


class AppWorker(Worker):
    """Runs each job in a forked horse with its own database connections and session.

    Before each fork the worker makes sure what jobs need is already in this process (see
    `preload`), so a horse starts with scikit-learn imported and the active scoring models
    loaded instead of spending a second on that per job."""

    def preload(self) -> None:
        """Import the job modules and load the active scoring models here, in the parent (one
        query when nothing changed). Never fatal: a job does the same itself if this fails."""
        try:
            import crm.scoring.jobs  # noqa: F401
            import crm.screening.services  # noqa: F401
            from crm.scoring.registry import warm

            warm()
        except Exception:  # noqa: BLE001  (a missing table, a database away: the job will say)
            current_app.logger.exception("worker: preloading the scoring models failed")
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

    def perform_job(self, job, queue, execution):
        try:
            return super().perform_job(job, queue, execution)
        finally:
            db.session.remove()


def make_worker(queue_names: list[str], name: str | None = None) -> AppWorker:
    queues = [get_queue(n) for n in queue_names]
    return AppWorker(queues, connection=redis_store.client, name=name)

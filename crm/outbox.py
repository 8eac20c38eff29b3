"""The outbox: a job that must run is a row, written in the same transaction as the data it works on.

`crm.queue.enqueue_after_commit` adds an `OutboxJob` row; after the commit it tries to put the RQ
job on its queue (Redis away: logged, the request still succeeds). The sweeper (`sweep`, in every
`crm worker`, each tick) puts back every unfinished row that has no live job, under the same job
id: an import confirmed while Redis was down, a job lost when Redis restarted empty, a job whose
worker died (its heartbeat lapsed) or that failed with attempts left. The worker marks a row
started and finished (crm.queue.AppWorker); after `max_attempts` runs it is marked failed. Jobs
must be idempotent: a job may run again after a crash.

A core module: it imports no feature (job functions are dotted paths).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import JSON, Index, Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from crm import clock
from crm.database import Base
from crm.extensions import db, redis_store

SWEEP_BATCH = 500
CLAIM_SECONDS = 60   # an enqueue in flight (after a commit, or by another sweeper) is left alone this long
KEEP_DAYS = 7        # finished and failed rows kept this long (the progress pages read them)
LIVE = {"queued", "scheduled", "deferred", "started", "created", "ready_to_enqueue", "rate_limited"}


def _now() -> datetime:
    return clock.now()


class OutboxJob(Base):
    """One job that must run: where, what, with which arguments, and how it went."""

    __tablename__ = "outbox_jobs"
    __table_args__ = (Index("ix_outbox_jobs_open", "finished_at", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100), unique=True)  # the RQ job id, the same on every enqueue
    queue: Mapped[str] = mapped_column(String(20))
    func: Mapped[str] = mapped_column(String(200))   # dotted path of the job function
    args: Mapped[list] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict] = mapped_column(JSON, default=dict)  # the function's keywords and RQ's options
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # runs started
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    enqueued_at: Mapped[datetime | None]  # the last time the sweeper put it on its queue again
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    worker_lost_at: Mapped[datetime | None]  # its worker died while running it (the progress pages say so)
    error: Mapped[str | None] = mapped_column(Text)


def dotted(func) -> str:
    return func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"


def new_job_id(kind: str) -> str:
    return f"{current_app.config['REDIS_PREFIX']}-{kind}-{uuid.uuid4().hex[:12]}"


def add(session, queue: str, func, args, kwargs, job_id: str | None, max_attempts: int) -> OutboxJob:
    """The row, in the session's transaction (an unfinished row with this job id is reused)."""
    row = session.scalar(select(OutboxJob).where(OutboxJob.job_id == job_id)) if job_id else None
    job_id = job_id or new_job_id("job")
    if row is None:
        row = OutboxJob(job_id=job_id)
        session.add(row)
    row.queue, row.func, row.args, row.kwargs = queue, dotted(func), list(args), dict(kwargs)
    row.max_attempts, row.attempts = max_attempts, 0
    row.created_at, row.enqueued_at, row.started_at = _now(), None, None
    row.finished_at = row.failed_at = row.worker_lost_at = None
    row.error = None
    return row


def _claim(job_id: str, generation: int) -> bool:
    """One enqueue per job id and attempt, whoever tries (after the commit, several sweepers)."""
    key = f"{current_app.config['REDIS_PREFIX']}:outbox:{job_id}:{generation}"
    return bool(redis_store.client.set(key, "1", nx=True, ex=CLAIM_SECONDS))


def enqueue(queue: str, func: str, args, kwargs, job_id: str, generation: int = 0) -> bool:
    """Put the job on its queue unless another process just did; raises if Redis is away."""
    from crm.queue import get_queue

    if not _claim(job_id, generation):
        return False
    get_queue(queue).enqueue(func, *args, job_id=job_id, meta={"outbox": True}, **kwargs)
    return True


def mark_started(job_id: str) -> None:
    """In the worker's horse, before the job runs: one more attempt."""
    db.session.execute(update(OutboxJob).where(OutboxJob.job_id == job_id, OutboxJob.finished_at.is_(None))
                       .values(attempts=OutboxJob.attempts + 1, started_at=_now()))
    db.session.commit()


def mark_finished(job_id: str) -> None:
    db.session.execute(update(OutboxJob).where(OutboxJob.job_id == job_id, OutboxJob.finished_at.is_(None))
                       .values(finished_at=_now(), failed_at=None))
    db.session.commit()


def find(job_id: str) -> OutboxJob | None:
    return db.session.scalar(select(OutboxJob).where(OutboxJob.job_id == job_id))


def _fetch(job_id: str):
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        return Job.fetch(job_id, connection=redis_store.client)
    except NoSuchJobError:
        return None


def last_line(text: str | None) -> str | None:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else None


def job_error(job) -> str | None:
    """The last line of the job's last failure (RQ keeps it in its results)."""
    result = job.latest_result()
    return last_line(getattr(result, "exc_string", None)) if result is not None else None


def reap_abandoned(at: float | None = None) -> list[str]:
    """Jobs whose worker stopped sending heartbeats (killed, host gone): RQ's own cleanup of the
    started registries, which RQ otherwise runs only every ten minutes. RQ retries the job or moves
    it to the failed jobs; an outbox row notes that its worker was lost. `at`: the moment to judge
    the heartbeats by (a Unix timestamp; default now)."""
    from rq.registry import StartedJobRegistry

    from crm.queue import QUEUES, get_queue

    lost = []
    for name in QUEUES:
        registry = StartedJobRegistry(queue=get_queue(name))
        expired = registry.get_expired_job_ids(at)
        for job_id in expired:
            job = _fetch(job_id)
            if job is not None and job.get_status(refresh=False) == "started":
                lost.append(job_id)
        registry.cleanup(at)
    if lost:
        db.session.execute(update(OutboxJob).where(OutboxJob.job_id.in_(lost), OutboxJob.finished_at.is_(None))
                           .values(worker_lost_at=_now()))
        current_app.logger.warning("outbox: the worker of %s stopped; retried or failed", ", ".join(lost))
    return lost


def sweep(at: float | None = None) -> dict:
    """Put back on their queues the unfinished jobs that have no live RQ job; mark finished the
    ones whose job finished, failed the ones out of attempts. Idempotent; one sweeper at a time."""
    prefix = current_app.config["REDIS_PREFIX"]
    lock = f"{prefix}:outbox:sweeping"
    if not redis_store.client.set(lock, "1", nx=True, ex=120):
        return {}
    counts = {"enqueued": 0, "finished": 0, "failed": 0, "lost": 0}
    try:
        counts["lost"] = len(reap_abandoned(at))
        rows = db.session.scalars(select(OutboxJob).where(OutboxJob.finished_at.is_(None),
                                                          OutboxJob.failed_at.is_(None))
                                  .order_by(OutboxJob.id).limit(SWEEP_BATCH)).all()
        for row in rows:
            job = _fetch(row.job_id)
            status = job.get_status(refresh=False) if job is not None else None
            if status == "finished":
                row.finished_at = _now()
                counts["finished"] += 1
                continue
            if status in LIVE:
                continue
            if job is not None:
                row.error = job_error(job) or row.error
            if row.attempts >= row.max_attempts:
                row.failed_at = _now()
                row.error = row.error or "the job was lost"
                counts["failed"] += 1
                continue
            if job is not None:
                job.delete()  # failed, stopped or canceled: out of RQ's registries before it starts again
            if enqueue(row.queue, row.func, row.args, row.kwargs, row.job_id, generation=row.attempts):
                row.enqueued_at = _now()
                counts["enqueued"] += 1
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        redis_store.client.delete(lock)
    if counts["enqueued"] or counts["failed"]:
        current_app.logger.info("outbox: %s", counts)
    return counts


def purge() -> int:
    """Periodic: rows finished or failed more than KEEP_DAYS ago."""
    before = _now() - timedelta(days=KEEP_DAYS)
    result = db.session.execute(delete(OutboxJob).where(
        (OutboxJob.finished_at < before) | (OutboxJob.failed_at < before)))
    db.session.commit()
    return result.rowcount or 0

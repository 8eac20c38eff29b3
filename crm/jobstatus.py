"""What a progress page says about its background job: waiting, running, its worker gone, run
again, finished, failed.

RQ says "started" until its maintenance notices that the worker died (by default after ten
minutes). Here a started job whose heartbeat lapsed (crm.queue.HEARTBEAT_GRACE after the last one)
or whose worker's own key is gone counts as "worker lost" at once. The outbox row (crm.outbox)
adds what Redis does not keep: the attempts, a worker lost earlier, the final failure.
A core module: it imports no feature.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from flask_babel import gettext as _
from redis.exceptions import RedisError

from crm.extensions import redis_store

QUEUED, RUNNING, WORKER_LOST, RETRYING, FINISHED, FAILED, UNKNOWN = (
    "queued", "running", "worker_lost", "retrying", "finished", "failed", "unknown")


@dataclass
class JobState:
    state: str
    notice: str | None = None  # a sentence for the page: a dead worker, a retry, the queue away
    error: str | None = None   # why it failed (the job's last line)
    meta: dict = field(default_factory=dict)  # the RQ job's meta (e.g. training's step)

    @property
    def ended(self) -> bool:
        return self.state in (FINISHED, FAILED)


def worker_alive(job, at: float | None = None) -> bool:
    """Whether the worker running `job` still sends heartbeats. `at`: the moment to judge by (Unix
    time; RQ writes real time, so this is real time too, never crm.clock's fixed demo moment)."""
    from rq.registry import StartedJobRegistry
    from rq.worker import Worker

    at = time.time() if at is None else at
    client = redis_store.client
    registry = StartedJobRegistry(job.origin, connection=client)
    expiries = [score for member, score in client.zrange(registry.key, 0, -1, withscores=True)
                if registry.parse_job_id(member) == job.id]
    if not expiries or max(expiries) < at:
        return False
    if job.worker_name and not client.exists(Worker.redis_worker_namespace_prefix + job.worker_name):
        return False  # the worker said goodbye (or its key expired) without ending the job
    return True


def _attempt(row) -> dict:
    return {"n": row.attempts + 1, "m": row.max_attempts}


def job_state(job_id: str | None, at: float | None = None) -> JobState:
    """The state of a job by its id (an outbox job or a plain RQ job); UNKNOWN when neither Redis
    nor the outbox knows it."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from crm import outbox

    if not job_id:
        return JobState(UNKNOWN)
    row = outbox.find(job_id)
    try:
        try:
            job = Job.fetch(job_id, connection=redis_store.client)
        except NoSuchJobError:
            job = None
        status = job.get_status(refresh=False) if job is not None else None
        alive = worker_alive(job, at) if status == "started" else None
    except (RedisError, OSError):
        job = status = alive = None
        if row is None or (row.finished_at is None and row.failed_at is None):
            return JobState(QUEUED if row is not None else UNKNOWN, notice=_(
                "The job queue cannot be reached just now; the job runs once it is back."))
    meta = dict(job.meta or {}) if job is not None else {}
    if row is not None and row.failed_at is not None:
        return JobState(FAILED, meta=meta, error=row.error, notice=_(
            "The job failed after %(n)s attempts and will not be run again.", n=row.attempts))
    if row is not None and row.finished_at is not None:
        return JobState(FINISHED, meta=meta)
    if status == "finished":
        return JobState(FINISHED, meta=meta)
    if status == "started":
        if alive:
            return JobState(RUNNING, meta=meta)
        if row is None or row.attempts >= row.max_attempts:
            return JobState(WORKER_LOST, meta=meta, notice=_(
                "The background process running this job has stopped; the job will not be run again."))
        return JobState(WORKER_LOST, meta=meta, notice=_(
            "The background process running this job has stopped; the job will be run again shortly."))
    if status in ("failed", "stopped", "canceled"):
        error = outbox.job_error(job)
        if row is not None and row.attempts < row.max_attempts:
            return JobState(RETRYING, meta=meta, error=error, notice=_(
                "The job did not finish; it will be run again (attempt %(n)s of %(m)s).", **_attempt(row)))
        return JobState(FAILED, meta=meta, error=error)
    if job is None and row is None:
        return JobState(UNKNOWN)
    if row is not None and row.worker_lost_at is not None:
        return JobState(RETRYING, meta=meta, notice=_(
            "The background process running this job stopped; the job is queued to run again "
            "(attempt %(n)s of %(m)s).", **_attempt(row)))
    if row is not None and row.attempts and row.error:
        return JobState(RETRYING, meta=meta, error=row.error, notice=_(
            "The job did not finish; it will be run again (attempt %(n)s of %(m)s).", **_attempt(row)))
    return JobState(QUEUED, meta=meta)

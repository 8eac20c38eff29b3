"""An admin's actions on failed jobs: run again, or discard. Each lands in the audit log (the
request commits it); the Redis change itself is immediate."""
from __future__ import annotations

from crm.audit.listener import record
from crm.extensions import db
from crm.ops import queries


class JobNotFound(Exception):
    pass


def _audit(action: str, queue: str, job) -> None:
    record(db.session, action, "background_jobs", None,
           {"job": [None, job.id], "function": [None, job.func_name], "queue": [None, queue]})


def retry_failed(job_id: str) -> None:
    """Put a failed job back on its queue (jobs are idempotent, so running it again is safe)."""
    found = queries.find_failed(job_id)
    if found is None:
        raise JobNotFound(job_id)
    queue, registry, job = found
    registry.requeue(job)
    _audit("job_retry", queue, job)


def discard_failed(job_id: str) -> None:
    """Forget a failed job for good (its record and its place in the failed-job registry)."""
    found = queries.find_failed(job_id)
    if found is None:
        raise JobNotFound(job_id)
    queue, registry, job = found
    registry.remove(job, delete_job=True)
    _audit("job_discard", queue, job)

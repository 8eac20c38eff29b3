"""Reading the state of the background work: nothing is stored for it beside RQ's own records.

Periodic jobs: each run is an RQ job with the id `<periodic id>-<slot>` (crm.periodic) whose
record RQ keeps for three intervals (result_ttl), failed ones longer (the failed-job registry).
The last run is the newest of the last three slots' records; an empty cell after three intervals
is itself the alarm (no worker with --with-scheduler, or Redis lost its data).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.worker import Worker

from crm import clock
from crm.extensions import db, redis_store

# RQ job ids as this app makes them (uuid4 hex, `rescore-12-…`, `score-pending-29441`).
JOB_ID = re.compile(r"[A-Za-z0-9_.:-]{1,120}")


def database_ok() -> bool:
    """SELECT 1 on a raw connection: no ORM transaction, so SQLite's write lock is never taken
    (BEGIN IMMEDIATE) and a long import cannot make the health check wait."""
    try:
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            cursor.close()
        finally:
            connection.close()
        return True
    except Exception:  # noqa: BLE001  (any failure means: not healthy)
        current_app.logger.warning("healthz: database check failed", exc_info=True)
        return False


def redis_ok() -> bool:
    try:
        return bool(redis_store.client.ping())
    except Exception:  # noqa: BLE001
        return False


def _queues():
    from crm.queue import QUEUES, get_queue

    return [(name, get_queue(name)) for name in QUEUES]


def queue_depths() -> dict[str, int]:
    """Jobs waiting per queue (not yet taken by a worker)."""
    return {name: queue.count for name, queue in _queues()}


@dataclass
class WorkerRow:
    name: str
    hostname: str | None
    pid: int | None
    state: str
    queues: list[str]
    current_job: str | None
    last_heartbeat: datetime | None
    heartbeat_age: int | None  # seconds
    successful: int
    failed: int


def _word(value) -> str:
    """RQ's status enums (str mixins) as their plain value."""
    return str(getattr(value, "value", value))


def _age(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return max(int((clock.now() - moment).total_seconds()), 0)


def workers() -> list[WorkerRow]:
    """The workers listening on this app's queues (others may share the Redis server)."""
    prefix = current_app.config["REDIS_PREFIX"] + ":"
    seen: dict[str, Worker] = {}
    for _name, queue in _queues():
        for worker in Worker.all(queue=queue):
            seen.setdefault(worker.name, worker)
    rows = []
    for worker in sorted(seen.values(), key=lambda w: w.name):
        rows.append(WorkerRow(
            name=worker.name, hostname=worker.hostname, pid=worker.pid, state=_word(worker.get_state()),
            queues=[q.removeprefix(prefix) for q in worker.queue_names()],
            current_job=worker.get_current_job_id(), last_heartbeat=worker.last_heartbeat,
            heartbeat_age=_age(worker.last_heartbeat), successful=worker.successful_job_count,
            failed=worker.failed_job_count))
    return rows


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""


def _exc_string(job: Job) -> str | None:
    result = job.latest_result()
    return result.exc_string if result is not None else None


def _args_text(job: Job) -> str:
    try:
        parts = [repr(a) for a in job.args] + [f"{k}={v!r}" for k, v in job.kwargs.items()]
    except Exception:  # noqa: BLE001  (a job whose function moved cannot be unpickled)
        return "?"
    text = ", ".join(parts)
    return text if len(text) <= 200 else text[:199] + "…"


@dataclass
class FailedJob:
    id: str
    queue: str
    function: str
    args: str
    error: str
    ended_at: datetime | None


def failed_jobs(limit: int = 200) -> list[FailedJob]:
    """The failed jobs of every queue, newest first: function, arguments (ids only, by the
    jobs' rule), the last line of the error and when it failed."""
    rows = []
    for name, queue in _queues():
        registry = FailedJobRegistry(queue=queue)
        ids = registry.get_job_ids(0, limit - 1, desc=True)
        for job in Job.fetch_many(ids, connection=queue.connection):
            if job is None:
                continue
            rows.append(FailedJob(id=job.id, queue=name, function=job.func_name or "?", args=_args_text(job),
                                  error=_last_line(_exc_string(job)), ended_at=job.ended_at))
    rows.sort(key=lambda r: r.ended_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    return rows[:limit]


def find_failed(job_id: str):
    """(queue name, registry, job) of a failed job of this app's queues, or None."""
    if not JOB_ID.fullmatch(job_id):
        return None
    for name, queue in _queues():
        registry = FailedJobRegistry(queue=queue)
        if job_id in registry:
            job = Job.fetch(job_id, connection=queue.connection)
            return name, registry, job
    return None


@dataclass
class PeriodicRun:
    id: str
    func: str
    every: int
    queue: str
    status: str | None          # finished / failed / started / queued …; None: no run recorded
    job_id: str | None
    enqueued_at: datetime | None
    ended_at: datetime | None
    error: str
    next_at: datetime


def periodic_runs() -> list[PeriodicRun]:
    from crm.periodic import PERIODIC_JOBS
    from crm.queue import get_queue

    moment = clock.now().timestamp()
    rows = []
    for spec in PERIODIC_JOBS:
        slot = int((moment - spec.offset) // spec.every)
        origin = get_queue(spec.queue).name
        ids = [f"{spec.id}-{s}" for s in (slot, slot - 1, slot - 2)]
        # The newest slot whose record belongs to this app's queue (another app on the same Redis
        # uses the same ids under its own prefix).
        job = next((j for j in Job.fetch_many(ids, connection=redis_store.client)
                    if j is not None and j.origin == origin), None)
        status = _word(job.get_status(refresh=False)) if job is not None else None
        rows.append(PeriodicRun(
            id=spec.id, func=spec.func, every=spec.every, queue=spec.queue, status=status,
            job_id=job.id if job else None, enqueued_at=job.enqueued_at if job else None,
            ended_at=job.ended_at if job else None,
            error=_last_line(_exc_string(job)) if job is not None and status == "failed" else "",
            next_at=datetime.fromtimestamp((slot + 1) * spec.every + spec.offset, tz=timezone.utc)))
    return rows


def running_count() -> int:
    return sum(StartedJobRegistry(queue=queue).count for _name, queue in _queues())


def health() -> tuple[dict, bool]:
    """The load balancer's view: healthy when the database and Redis answer. Workers and queue
    depths are reported (a worker down is an alarm for people, not a reason to stop serving)."""
    database, redis_up = database_ok(), redis_ok()
    body: dict = {"database": "ok" if database else "down", "redis": "ok" if redis_up else "down",
                  "workers": None, "queues": None}
    if redis_up:
        try:
            rows = workers()
            ages = [w.heartbeat_age for w in rows if w.heartbeat_age is not None]
            body["workers"] = {"count": len(rows), "last_heartbeat_age_seconds": min(ages) if ages else None}
            body["queues"] = queue_depths()
        except Exception:  # noqa: BLE001  (Redis went away between the ping and now)
            current_app.logger.warning("healthz: reading the workers and queues failed", exc_info=True)
    healthy = database and redis_up
    body["status"] = "ok" if healthy else "unavailable"
    return body, healthy

"""What an operator watches: /healthz for a load balancer, and the admins' page of queues,
workers, failed jobs (run again / discard, in the audit log) and periodic runs."""
from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from crm.audit.models import AuditEntry
from crm.extensions import db, redis_store
from tests import factories
from tests.test_redis_away import own_redis  # noqa: F401  (fixture: a Redis of the test's own)


def boom(lead_id: int = 0) -> None:
    """A job that fails (run by a real RQ worker's horse)."""
    raise RuntimeError(f"the county server said no to lead {lead_id}")


def _queue(app, name="quick"):
    from rq import Queue

    return Queue(f"{app.config['REDIS_PREFIX']}:{name}", connection=redis_store.client_for(app.config))


def test_healthz_answers_without_login_and_shows_no_personal_data(app, client):
    user = factories.user(full_name="张三丰", username="zhangsanfeng")
    db.session.flush()
    _queue(app, "slow").empty()
    _queue(app, "slow").enqueue(boom, 1)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok" and body["database"] == "ok" and body["redis"] == "ok"
    assert body["queues"]["slow"] == 1 and set(body["queues"]) == {"quick", "slow"}
    assert body["workers"]["count"] == 0
    text = response.get_data(as_text=True)
    assert user.username not in text and user.full_name not in text
    _queue(app, "slow").empty()


def test_healthz_reports_a_worker_and_its_heartbeat(app, client):
    from crm.queue import AppWorker

    worker = AppWorker([_queue(app)], connection=redis_store.client_for(app.config), name=uuid.uuid4().hex)
    worker.register_birth()
    try:
        worker.heartbeat()
        body = client.get("/healthz").json
        assert body["workers"]["count"] == 1
        assert 0 <= body["workers"]["last_heartbeat_age_seconds"] < 600
    finally:
        worker.register_death()


def test_healthz_answers_503_when_redis_is_away(app, client, own_redis):  # noqa: F811
    own_redis.stop()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["redis"] == "down" and response.json["database"] == "ok"


@pytest.mark.parametrize("role", ["officer", "team_lead", "leader", "viewer", "screener"])
def test_only_admins_see_the_operations_page(app, client, role):
    user = factories.user(roles=(role,))
    db.session.flush()
    client.login(user)
    assert client.get("/admin/operations").status_code == 403
    assert client.post("/admin/operations/failed/abc/retry").status_code == 403
    assert client.post("/admin/operations/failed/abc/discard").status_code == 403


@pytest.fixture()
def failed_job(app, monkeypatch, clock_at):
    """A job failed by a real worker, and a periodic job's run that failed too."""
    from crm import periodic
    from crm.queue import make_worker

    moment = "2026-12-05T10:00:00+08:00"
    clock_at(moment)
    spec = periodic.PeriodicJob(f"ops-test-{uuid.uuid4().hex[:8]}", "tests.test_ops.boom", every=86400)
    monkeypatch.setattr(periodic, "PERIODIC_JOBS", (spec,))
    with app.app_context():
        queue = _queue(app)
        queue.empty()
        job = queue.enqueue(boom, 42)
        slot = int(datetime.fromisoformat(moment).timestamp() // spec.every)
        assert periodic.enqueue_due(jobs=(spec,)) == [f"{spec.id}-{slot}"]
        make_worker(["quick"]).work(burst=True, with_scheduler=False)
    yield job, spec
    with app.app_context():
        for job_id in FailedJobRegistry(queue=_queue(app)).get_job_ids():
            Job.fetch(job_id, connection=queue.connection).delete()


def test_the_page_lists_failed_jobs_and_the_last_periodic_runs(app, client, failed_job):
    job, spec = failed_job
    admin = factories.user(roles=("admin",))
    db.session.flush()
    client.login(admin)
    page = client.get("/admin/operations").get_data(as_text=True)
    assert "后台任务" in page and "失败的任务" in page
    assert f'data-job-id="{job.id}"' in page
    assert "tests.test_ops.boom" in page and "RuntimeError: the county server said no to lead 42" in page
    row = page.split(f'data-periodic-id="{spec.id}"')[1].split("</tr>")[0]
    assert "失败" in row and "RuntimeError" in row
    assert "没有正在运行的执行进程" in page  # the burst worker has gone


def test_run_again_puts_the_job_back_and_is_audited(app, client, failed_job):
    job, _spec = failed_job
    admin = factories.user(roles=("admin",))
    db.session.flush()
    client.login(admin)
    response = client.post(f"/admin/operations/failed/{job.id}/retry")
    assert response.status_code == 302
    assert job.id not in FailedJobRegistry(queue=_queue(app))
    assert job.id in _queue(app).job_ids
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "job_retry")).one()
    assert entry.actor_id == admin.id and entry.changes["job"] == [None, job.id]
    assert entry.changes["function"] == [None, "tests.test_ops.boom"]
    _queue(app).empty()


def test_discard_forgets_the_job_and_is_audited(app, client, failed_job):
    job, _spec = failed_job
    admin = factories.user(roles=("admin",))
    db.session.flush()
    client.login(admin)
    assert client.post(f"/admin/operations/failed/{job.id}/discard").status_code == 302
    assert job.id not in FailedJobRegistry(queue=_queue(app))
    assert not Job.exists(job.id, connection=redis_store.client_for(app.config))
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "job_discard")).one()
    assert entry.actor_id == admin.id
    # The audit log says it in words.
    assert "丢弃失败的任务" in client.get("/admin/audit").get_data(as_text=True)


def test_retry_of_an_unknown_job_is_404_and_needs_csrf(app, client):
    admin = factories.user(roles=("admin",))
    db.session.flush()
    client.login(admin)
    assert client.post("/admin/operations/failed/no-such-job/retry").status_code == 404
    assert client.post("/admin/operations/failed/no-such-job/retry", csrf=False).status_code == 400

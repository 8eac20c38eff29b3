"""Scoring jobs on a real RQ worker: rescoring after a save, Redis away, a worker killed mid-training."""
from __future__ import annotations

import os
import signal
import time

from sqlalchemy import func, select

from crm.extensions import db, redis_store
from crm.leads.models import Lead
from tests import factories
from tests.conftest import run_worker


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _fresh() -> None:
    """See what the worker committed: end any read transaction and forget loaded objects."""
    db.session.rollback()
    db.session.expire_all()


def _rescore_jobs(lead_id: int) -> int:
    from crm.queue import get_queue

    return sum(1 for job in get_queue("quick").jobs if job.args == (lead_id,))


def test_a_saved_lead_is_rescored_once_however_many_edits(app, committed):
    from crm.leads.services import update_lead

    with app.test_request_context():
        officer = factories.user()
        lead = factories.negotiating_lead(owner=officer)
        db.session.commit()  # after the commit, one rescore is queued
        lead_id = lead.id
        assert _rescore_jobs(lead_id) == 1
        for jobs in (12, 13):
            update_lead(lead, {"jobs": jobs}, officer)
            db.session.commit()
        assert _rescore_jobs(lead_id) == 1  # still one pending job
    run_worker(app, queues="quick")
    _fresh()
    lead = db.session.get(Lead, lead_id)
    assert lead.score_pending is False and lead.scored_at is not None and lead.p_sign is not None


def test_redis_unreachable_on_save_leaves_the_lead_pending_then_scored(app, committed):
    import redis

    from tests.conftest import CSRFClient

    key = app.config["REDIS_URL"] or app.config["INSTANCE_PATH"]
    real = redis_store._clients[key]
    with app.app_context():
        officer = factories.user()
        db.session.commit()
    db.session.remove()
    web = CSRFClient(app.test_client())  # real commits (not the rolled-back test transaction)
    web.login(officer)
    redis_store._clients[key] = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    try:
        response = web.post("/leads/new", {"company_name": "福建断网测试有限公司", "owner_id": str(officer.id),
                                           "created_on": "2026-11-20", "confirm_duplicate": "y"})
    finally:
        redis_store._clients[key] = real
    assert response.status_code == 302, response.get_data(as_text=True)[:800]  # the save succeeded
    lead = db.session.scalar(select(Lead).where(Lead.company_name == "福建断网测试有限公司"))
    assert lead.score_pending is True and lead.p_sign is None
    # Redis is back: the periodic catch-up scores what is pending.
    from crm.queue import get_queue

    with app.app_context():
        get_queue("quick").enqueue("crm.scoring.jobs.score_pending")
    run_worker(app, queues="quick")
    _fresh()
    lead = db.session.get(Lead, lead.id)
    assert lead.score_pending is False and lead.score_source == "prior"


def test_a_worker_killed_while_training_registers_nothing(app, committed):
    from crm.queue import get_queue
    from crm.scoring.models import ScoringModel
    from tests.test_scoring import history

    with app.app_context():
        history(1500)
        db.session.commit()
        job = get_queue("slow").enqueue("crm.scoring.jobs.train_model", "sign")
    proc = run_worker(app, queues="slow", wait=False)
    deadline = time.time() + 120
    with app.app_context():
        while time.time() < deadline:
            job.refresh()
            if job.get_status() == "started" and job.meta.get("step"):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("training never started")
    time.sleep(0.3)
    for child in _children(proc.pid):
        os.kill(child, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    _fresh()
    assert db.session.scalar(select(func.count()).select_from(ScoringModel)) == 0  # nothing half-registered
    # Delivered again (RQ's retry after the dead worker's heartbeat lapses): one version, complete.
    with app.app_context():
        get_queue("slow").enqueue("crm.scoring.jobs.train_model", "sign")
    run_worker(app, queues="slow")
    _fresh()
    versions = db.session.scalars(select(ScoringModel)).all()
    assert [(m.target, m.version, m.status) for m in versions] == [("sign", 1, "active")]
    assert db.session.scalar(select(func.count()).select_from(Lead).where(Lead.score_source == "model")) == 1500


def test_crm_train_and_score_wait_run_the_jobs_themselves_without_a_worker(app, committed):
    import subprocess
    import sys
    from pathlib import Path

    from tests.test_scoring import history

    with app.app_context():
        history(300)
        db.session.commit()
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "CRM_INSTANCE_PATH": app.instance_path,
           "CRM_REDIS_PREFIX": app.config["REDIS_PREFIX"], "SECRET_KEY": "test-secret"}
    if app.config["REDIS_URL"]:
        env["REDIS_URL"] = app.config["REDIS_URL"]
    crm = str(Path(sys.executable).parent / "crm")
    out = subprocess.run([crm, "train", "--target", "sign", "--wait"], env=env, capture_output=True, text=True,
                         timeout=300, cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "no worker is listening" in out.stdout and "sign: v1 active" in out.stdout
    out = subprocess.run([crm, "score", "--all", "--wait"], env=env, capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0 and "scored 300 leads" in out.stdout, out.stdout + out.stderr[-2000:]

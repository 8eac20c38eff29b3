"""No job is ever lost: the outbox (crm.outbox) and its sweeper, a dead worker noticed and its job
run again, training both targets as one unit, and core modules that import no feature.

Fault tests run on a Redis server of their own (started and stopped here), never the shared one.
"""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.extensions import db, redis_store
from tests import factories
from tests.conftest import CSRFClient, run_worker
from tests.own_redis import OwnRedis


@pytest.fixture()
def own_redis(app, monkeypatch):
    server = OwnRedis().start()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)  # the app, and the workers run_worker starts
    try:
        yield server
    finally:
        server.remove()
        redis_store._clients.pop(server.url, None)


def _upload(rows: int):
    from crm.auth.models import Unit
    from crm.auth.services import create_user
    from crm.interchange import services
    from tests.import_files import csv_bytes, row

    unit = Unit(name="古镛镇", kind="town")
    db.session.add(unit)
    user = create_user("importer", factories.PASSWORD, unit, ["team_lead"])
    content = csv_bytes([row(name=f"福建外发测试{i}号科技有限公司", kind="", source="") for i in range(rows)])
    batch = services.store_upload(io.BytesIO(content), "外发线索.csv", user, unit, "create")
    db.session.commit()
    return user, batch.id


def _queue_import(rows: int) -> int:
    from crm.interchange import services
    from crm.interchange.models import ImportBatch

    _user, batch_id = _upload(rows)
    services.confirm(db.session.get(ImportBatch, batch_id), {}, valid_rows_only=False)
    db.session.commit()  # the outbox row is committed; the job is enqueued only now
    return batch_id


def _batch(batch_id: int):
    from crm.interchange.models import ImportBatch

    db.session.remove()
    return db.session.get(ImportBatch, batch_id)


def _leads() -> int:
    from crm.leads.models import Lead

    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(Lead))


def _row(job_id: str):
    from crm import outbox

    db.session.remove()
    return outbox.find(job_id)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_an_import_confirmed_while_redis_is_down_is_saved_and_runs_once_redis_is_back(app, committed, own_redis):
    user, batch_id = _upload(40)
    db.session.remove()
    web = CSRFClient(app.test_client())  # real commits, as a browser's requests
    web.login(user)
    own_redis.stop()
    response = web.post(f"/imports/{batch_id}/confirm", {})
    # Today's failure was a 500 ("nothing was saved") although the batch had been committed.
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    batch = _batch(batch_id)
    assert batch.status == "queued"
    row = _row(batch.job_id)
    assert row is not None and row.func == "crm.interchange.jobs.run_import_job" and row.args == [batch_id]
    assert row.finished_at is None and row.attempts == 0
    own_redis.start()  # back, and empty: nothing was ever enqueued
    run_worker(app)  # its sweeper enqueues the row, the burst runs it
    batch = _batch(batch_id)
    assert batch.status == "done" and batch.created_count == 40 and _leads() == 40
    row = _row(batch.job_id)
    assert row.finished_at is not None and row.attempts == 1


def test_a_job_lost_with_a_redis_restart_is_enqueued_again_and_runs_once(app, committed, own_redis):
    from crm import outbox
    from crm.queue import get_queue

    batch_id = _queue_import(30)
    assert get_queue("slow").count == 1
    redis_store.client.flushall()  # this test's own server: every job and claim gone
    assert get_queue("slow").count == 0
    assert outbox.sweep()["enqueued"] == 1
    assert outbox.sweep()["enqueued"] == 0  # a live job is left alone: one job, not two
    assert get_queue("slow").count == 1
    run_worker(app)
    batch = _batch(batch_id)
    assert batch.status == "done" and batch.created_count == 30 and _leads() == 30
    row = _row(batch.job_id)
    assert row.finished_at is not None and row.attempts == 1


def test_a_worker_killed_mid_import_is_noticed_and_the_next_worker_runs_it_again(app, committed, own_redis):
    from crm import jobstatus, outbox
    from crm.interchange import services

    total = 12000
    batch_id = _queue_import(total)
    job_id = _batch(batch_id).job_id
    key = services.progress_key(batch_id)
    proc = run_worker(app, wait=False)
    deadline = time.time() + 120
    while time.time() < deadline:  # waiting for the worker to be mid-import, not for time to pass
        done = redis_store.client.get(key)
        if done and 1000 <= int(done) < total:
            break
        time.sleep(0.02)
    else:
        raise AssertionError("the import never got going")
    for child in _children(proc.pid):  # the horse has a process group of its own
        os.kill(child, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert _leads() == 0
    # Judged a minute on (no sleeping): the dead worker's heartbeat has lapsed by then.
    later = time.time() + 60
    state = jobstatus.job_state(job_id, at=later)
    assert state.state == jobstatus.WORKER_LOST and state.notice
    # The sweeper (every tick of `crm worker`) reaps it at once instead of RQ's ten minutes. It
    # writes: in a fresh transaction, as the worker's tick does. The read one _leads() left open
    # may predate what the killed processes last wrote, and SQLite then refuses the write at once
    # ("database is locked", no busy timeout waits that out: CI's flake of 6 Dec).
    db.session.remove()
    counts = outbox.sweep(at=later)
    assert counts["lost"] == 1 and counts["enqueued"] == 1
    row = _row(job_id)
    assert row.worker_lost_at is not None and row.attempts == 1 and row.finished_at is None
    # The import's progress page says so, in Chinese.
    web = CSRFClient(app.test_client())
    web.login(_batch(batch_id).created_by)
    progress = web.get(f"/imports/{batch_id}/progress").get_json()
    assert progress["status"] == "running"
    assert "后台进程" in progress["notice"] and "重新" in progress["notice"], progress
    run_worker(app)  # the next worker runs it again: all of it, once
    assert _batch(batch_id).status == "done" and _leads() == total
    row = _row(job_id)
    assert row.finished_at is not None and row.attempts == 2


def test_a_job_failing_every_time_is_marked_failed_after_its_attempts(app, committed, own_redis):
    from crm import jobstatus, outbox
    from crm.queue import enqueue_after_commit

    tests_importable = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    job_id = enqueue_after_commit("quick", "tests.test_outbox.always_fails", 7, retries=1)
    db.session.commit()
    run_worker(app, queues="quick", env_extra=tests_importable)  # attempt 1 fails
    row = _row(job_id)
    assert row.attempts == 1 and row.failed_at is None
    assert jobstatus.job_state(job_id).state == jobstatus.RETRYING
    run_worker(app, queues="quick", env_extra=tests_importable)  # its sweep enqueues attempt 2: fails too
    db.session.remove()  # a fresh transaction: the worker wrote since this one read
    outbox.sweep()
    row = _row(job_id)
    assert row.attempts == 2 and row.failed_at is not None and "no such lead 7" in row.error
    state = jobstatus.job_state(job_id)
    assert state.state == jobstatus.FAILED and state.notice


def always_fails(lead_id: int) -> None:
    raise LookupError(f"no such lead {lead_id}")


def test_old_finished_rows_are_purged(app, committed, clock_at):
    from crm import outbox

    clock_at("2026-01-01T10:00:00+08:00")
    old = outbox.add(db.session, "quick", "x.y", [], {}, "old-one", 1)
    old.finished_at = outbox._now()
    open_row = outbox.add(db.session, "quick", "x.y", [], {}, "still-open", 1)
    db.session.commit()
    clock_at("2026-01-20T10:00:00+08:00")
    assert outbox.purge() == 1
    assert outbox.find("old-one") is None and outbox.find(open_row.job_id) is not None


# --- Training both targets is one unit --------------------------------------------------------


def _history_without_starts(n: int):
    """Leads that signed or not, none started: signing can be learnt, landing has one outcome."""
    from tests.test_scoring import history

    leads = history(n)
    for lead in leads:
        if lead.stage == "started":
            lead.stage, lead.started_on = "signed", None
    db.session.flush()
    return leads


def test_training_that_fails_in_the_land_phase_activates_neither(app, committed):
    from crm import outbox
    from crm.scoring.jobs import train_model
    from crm.scoring.models import ScoringModel

    with app.test_request_context():
        _history_without_starts(400)
        db.session.commit()
        outcome = train_model()
    assert "error" in outcome["land"]
    sign = outcome["sign"]
    assert sign["status"] == "candidate" and "落地" in sign["reason"] and "一同" in sign["reason"], sign
    db.session.remove()
    models = db.session.scalars(select(ScoringModel)).all()
    assert [(m.target, m.status) for m in models] == [("sign", "candidate")]
    rows = db.session.scalars(select(outbox.OutboxJob)).all()
    assert rows == []  # nothing activated: no rescoring queued


def test_an_activation_is_always_followed_by_the_rescore_of_every_lead(app, committed, own_redis):
    """Both targets activate together, and the rescore is in the outbox with them: with Redis
    gone at that commit (as a worker killed just after it would leave things), the sweeper still
    runs it."""
    from crm import outbox
    from crm.leads.models import Lead
    from crm.scoring.jobs import train_model
    from crm.scoring.models import ScoringModel
    from tests.test_scoring import history

    with app.test_request_context():
        history(400)
        db.session.commit()
        own_redis.stop()
        outcome = train_model()
    assert outcome["sign"]["status"] == "active" and outcome["land"]["status"] == "active"
    db.session.remove()
    assert sorted((m.target, m.status) for m in db.session.scalars(select(ScoringModel))) == [
        ("land", "active"), ("sign", "active")]
    (row,) = db.session.scalars(select(outbox.OutboxJob)).all()
    assert row.func == "crm.scoring.jobs.score_all" and row.finished_at is None
    own_redis.start()
    run_worker(app)
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Lead).where(Lead.score_source == "model")) == 400
    assert _row(row.job_id).finished_at is not None


def test_train_now_page_says_redis_is_away_then_that_the_worker_died(app, committed, own_redis):
    """The "train now" status follows its job through the outbox: queued while Redis is away, a
    worker killed mid-training in words, and the next worker trains both targets again."""
    from crm import outbox
    from crm.scoring.models import ScoringModel
    from tests.test_scoring import history

    with app.app_context():
        admin = factories.user(roles=["admin"])
        history(400, owner=admin)
        db.session.commit()
    db.session.remove()
    web = CSRFClient(app.test_client())
    web.login(admin)
    own_redis.stop()
    response = web.post("/scoring/train", {})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job_id = response.headers["Location"].split("job=")[1]
    state = web.get(f"/scoring/jobs/{job_id}").get_json()
    assert state["status"] == "running" and "无法连接" in state["notice"], state
    own_redis.start()
    proc = run_worker(app, wait=False)  # its start-up sweep enqueues the training
    from rq.job import Job

    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            job = Job.fetch(job_id, connection=redis_store.client)
            if job.get_status() == "started" and job.meta.get("step"):
                break
        except Exception:  # noqa: BLE001  (not enqueued yet)
            pass
        time.sleep(0.05)
    else:
        raise AssertionError("training never started")
    for child in _children(proc.pid):
        os.kill(child, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert outbox.sweep(at=time.time() + 60)["lost"] == 1
    page = web.get(f"/scoring/?job={job_id}").get_data(as_text=True)
    assert 'data-testid="train-notice"' in page and "后台进程" in page and "第 2 次" in page, page[:3000]
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(ScoringModel)) == 0
    run_worker(app)
    db.session.remove()
    assert sorted((m.target, m.status) for m in db.session.scalars(select(ScoringModel))) == [
        ("land", "active"), ("sign", "active")]
    assert _row(job_id).attempts == 2 and _row(job_id).finished_at is not None


# --- Core modules import no feature ------------------------------------------------------------


def test_core_modules_import_no_feature():
    crm_dir = Path(__file__).resolve().parent.parent / "crm"
    features = sorted(p.name for p in crm_dir.iterdir() if (p / "__init__.py").exists())
    assert "scoring" in features and "interchange" in features
    code = ("import sys\n"
            "import crm.queue, crm.database, crm.extensions, crm.periodic, crm.outbox, crm.jobstatus\n"
            f"features = {features!r}\n"
            "print(','.join(f for f in features if 'crm.' + f in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=crm_dir.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"core modules import features: {out.stdout.strip()}"
    # Nor later, inside a function (the worker's preload imported scoring and screening).
    import ast

    for name in ("queue", "database", "extensions", "periodic", "outbox", "jobstatus"):
        tree = ast.parse((crm_dir / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            bad = [m for m in modules if m.split(".")[0] == "crm" and len(m.split(".")) > 1
                   and m.split(".")[1] in features]
            assert not bad, f"crm/{name}.py imports {bad} (line {node.lineno})"


def _long_running_worker(app, redis_url: str) -> subprocess.Popen:
    """`crm worker` as deployed (no --burst), in its own process group."""
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "CRM_INSTANCE_PATH": app.instance_path,
           "CRM_REDIS_PREFIX": app.config["REDIS_PREFIX"], "SECRET_KEY": "test-secret", "REDIS_URL": redis_url}
    return subprocess.Popen([str(Path(sys.executable).parent / "crm"), "worker", "--queues", "slow",
                             "--without-scheduler"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _worker_registered() -> bool:
    from rq import Worker

    try:
        return bool(Worker.all(connection=redis_store.client))
    except Exception:  # noqa: BLE001  (Redis away)
        return False


def _runs_a_small_import() -> None:
    batch_id = _queue_import(25)
    for _ in range(600):
        db.session.rollback()
        if _batch(batch_id).status in ("done", "failed"):
            break
        time.sleep(0.1)
    assert _batch(batch_id).status == "done" and _leads() == 25


def test_a_running_worker_outlives_a_redis_outage_and_works_after_it(app, committed, own_redis):
    """Redis stopped and started again under a running `crm worker`: the process stays, starts a
    new RQ worker once Redis answers, and runs what is queued after (the soak's finding)."""
    proc = _long_running_worker(app, own_redis.url)
    try:
        for _ in range(300):
            if _worker_registered():
                break
            time.sleep(0.1)
        assert _worker_registered(), "the worker never registered"
        own_redis.stop()
        time.sleep(3)  # the worker meets the outage (RQ retries its dequeue, or ends and ours starts anew)
        own_redis.start()  # the same address, empty
        assert proc.poll() is None
        _runs_a_small_import()
    finally:
        os.killpg(proc.pid, 9)
        proc.wait(10)


def test_a_worker_started_while_redis_is_down_waits_for_it(app, committed, own_redis):
    """Making RQ's worker talks to Redis (it names its connection): a worker started, or started
    anew, during an outage must wait for Redis instead of exiting (CI's flake of 5 Dec)."""
    own_redis.stop()
    proc = _long_running_worker(app, own_redis.url)
    try:
        time.sleep(5)  # an outage outlasting two of the worker's retries (REDIS_RETRY_SECONDS)
        assert proc.poll() is None, "the worker exited while Redis was away"
        own_redis.start()
        _runs_a_small_import()
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, 9)
        proc.wait(10)

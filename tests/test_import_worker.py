"""The import job on a real RQ worker: it runs after the commit, and a worker killed in the
middle leaves none of the import; the retried job imports it exactly once."""
from __future__ import annotations

import io
import os
import signal
import time

from sqlalchemy import func, select

from crm.extensions import db, redis_store
from crm.interchange import services
from crm.interchange.models import ImportBatch
from crm.leads.models import Lead
from tests import factories
from tests.conftest import run_worker
from tests.import_files import csv_bytes, row


def _queue_import(rows: int):
    from crm.auth.models import Unit
    from crm.auth.services import create_user

    unit = Unit(name="古镛镇", kind="town")
    db.session.add(unit)
    user = create_user("importer", factories.PASSWORD, unit, ["team_lead"])
    content = csv_bytes([row(name=f"福建测试{i}号科技有限公司", kind="", source="") for i in range(rows)])
    batch = services.store_upload(io.BytesIO(content), "大批线索.csv", user, unit, "create")
    services.confirm(batch, {}, valid_rows_only=False)
    db.session.commit()  # the job is enqueued only now
    return batch.id


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _count():
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(Lead))


def test_worker_runs_the_import_after_commit(app, committed):
    batch_id = _queue_import(300)
    run_worker(app)
    db.session.remove()
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.status == "done" and batch.created_count == 300
    assert _count() == 300


def test_worker_killed_mid_import_leaves_nothing_and_the_retry_imports_once(app, committed):
    total = 20000
    batch_id = _queue_import(total)
    key = services.progress_key(batch_id)
    proc = run_worker(app, wait=False)
    deadline = time.time() + 120
    while time.time() < deadline:
        done = redis_store.client.get(key)
        if done and 1000 <= int(done) < total:
            break
        time.sleep(0.02)
    else:
        raise AssertionError("the import never got going")
    # The worker and its work horse, mid-import. RQ puts the horse in a process group of its
    # own, so kill it by pid (a service manager would kill the whole control group).
    for child in _children(proc.pid):
        os.kill(child, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert _count() == 0  # nothing half-written
    assert db.session.get(ImportBatch, batch_id).status == "running"
    # RQ requeues a job whose worker died (Retry); deliver it again as that would.
    from crm.interchange.jobs import run_import_job
    from crm.queue import get_queue

    get_queue("slow").enqueue(run_import_job, batch_id)
    get_queue("slow").enqueue(run_import_job, batch_id)  # delivered twice: still once
    run_worker(app)
    assert _count() == total
    db.session.remove()
    assert db.session.get(ImportBatch, batch_id).status == "done"

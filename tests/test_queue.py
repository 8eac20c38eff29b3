"""Jobs are enqueued only after the commit that made their data, and a real worker runs them."""
from crm.extensions import db, redis_store
from crm.queue import enqueue_after_commit, get_queue, make_worker


def record_job(key: str, value: str) -> str:
    """A job: runs in the worker's forked horse, inside the app context."""
    from flask import current_app

    redis_store.client.set(key, f"{value}:{current_app.name}")
    return value


def test_job_waits_for_commit_and_a_burst_worker_runs_it(app, db_session):
    with app.app_context():
        queue = get_queue("quick")
        queue.empty()
        key = app.config["REDIS_PREFIX"] + ":job-test"
        enqueue_after_commit("quick", record_job, key, "done")
        assert queue.count == 0  # nothing before the commit
        db.session.commit()
        assert queue.count == 1
        make_worker(["quick"]).work(burst=True, with_scheduler=False)
        assert redis_store.client.get(key) == b"done:crm"


def test_rolled_back_work_enqueues_nothing(app, db_session):
    with app.app_context():
        queue = get_queue("quick")
        queue.empty()
        enqueue_after_commit("quick", record_job, "never", "x")
        db.session.rollback()
        db.session.commit()
        assert queue.count == 0

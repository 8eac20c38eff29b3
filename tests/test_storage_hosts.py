"""Files on every host: with CRM_STORAGE_URL=s3://… (a real S3-compatible server, moto's), a
worker on one "host" (its own instance folder) trains a model and a worker on another reads it."""
from __future__ import annotations

from sqlalchemy import func, select, update

from crm.extensions import db
from crm.leads.models import Lead
from crm.storage import make_storage
from tests.conftest import run_worker
from tests.s3_server import s3_store  # noqa: F401  (fixture)


def _host(app, tmp_path, name, url, s3_env):
    """The environment of a worker on another machine: its own instance folder, the shared
    database, Redis and object store."""
    redis_url = app.config["REDIS_URL"] or f"unix://{app.instance_path}/redis.sock"
    folder = tmp_path / name
    folder.mkdir()
    return folder, {**s3_env, "CRM_STORAGE_URL": url, "CRM_INSTANCE_PATH": str(folder), "REDIS_URL": redis_url}


def test_a_worker_on_another_host_scores_with_the_model_a_first_one_trained(app, committed, s3_store, tmp_path):
    from crm.queue import get_queue
    from crm.scoring.models import ScoringModel
    from tests.test_scoring import history

    url, s3_env = s3_store
    with app.app_context():
        history(300)
        db.session.commit()
    trainer, trainer_env = _host(app, tmp_path, "host-a", url, s3_env)
    scorer, scorer_env = _host(app, tmp_path, "host-b", url, s3_env)

    with app.app_context():
        get_queue("slow").enqueue("crm.scoring.jobs.train_model", "sign")
    run_worker(app, queues="slow", env_extra=trainer_env)
    db.session.rollback()
    entry = db.session.scalars(select(ScoringModel)).one()
    assert entry.status == "active"
    store = make_storage({"STORAGE_URL": url, "INSTANCE_PATH": str(tmp_path)})
    assert store.list("models") == [f"models/{entry.file_name}"]  # in the bucket …
    assert not (trainer / "models" / entry.file_name).exists()   # … not on host A's disk

    db.session.execute(update(Lead).values(p_sign=None, p_land=None, score_source=None, score_pending=True))
    db.session.commit()
    with app.app_context():
        get_queue("slow").enqueue("crm.scoring.jobs.score_all")
    run_worker(app, queues="slow", env_extra=scorer_env)
    db.session.rollback()
    scored = db.session.scalar(select(func.count()).select_from(Lead).where(Lead.score_source == "model"))
    assert scored == 300  # host B read the model host A trained (no file of its own)
    assert not (scorer / "models").exists() or not any((scorer / "models").iterdir())

"""Files on every host: with CRM_STORAGE_URL=s3://… (a real S3-compatible server, moto's), a
worker on one "host" (its own instance folder) trains a model and a worker on another reads it."""
from __future__ import annotations

from pathlib import Path

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


def test_web_uploads_reports_and_attachments_go_through_the_object_store(app, client, db_session, s3_store,
                                                                        monkeypatch, tmp_path):
    """The web's side, in this process with the storage switched to the bucket: an import's
    file, preview and report; a tax sheet kept between preview and confirmation; an attachment."""
    import io

    import openpyxl

    from crm.attachments import storage as attachment_storage
    from crm.attachments.views import file_response
    from crm.interchange.jobs import run_import_job
    from crm.interchange.models import ImportBatch
    from crm.tracking import results_import
    from tests import factories
    from tests.import_files import row, xlsx

    url, _env = s3_store
    store = make_storage({"STORAGE_URL": url, "INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setitem(app.extensions, "crm_storage", store)

    team_lead = factories.user(roles=["team_lead"])
    factories.source("上海将乐商会", kind="chamber")
    client.login(team_lead)
    content = xlsx([row(), row(name="乙公司", planned="abc")])
    response = client.post("/imports/new", {"file": (io.BytesIO(content), "线索.xlsx"), "mode": "create",
                                            "unit_id": team_lead.unit_id}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    batch_id = int(response.location.rsplit("/", 1)[1])
    assert "abc" in client.get(response.location).get_data(as_text=True)  # the preview read it from S3
    batch = db.session.get(ImportBatch, batch_id)
    assert store.get(batch.stored_path) == content
    assert client.post(f"/imports/{batch_id}/confirm", {}).status_code == 302
    with app.app_context():
        assert run_import_job(batch_id) == "failed"  # a bad row blocks the file; its report is written
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    assert store.exists(batch.report_path)
    report = client.get(f"/imports/{batch_id}/report")
    assert report.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(report.data)).active.cell(2, 1).value == "乙公司"

    with app.test_request_context():
        token, key = results_import.keep_upload(io.BytesIO(b"sheet"), "税收.xlsx")
        assert results_import.kept_upload(token) == key and store.get(key) == b"sheet"
        received = attachment_storage.receive(io.BytesIO(b"%PDF-1.4 data"), 1000)
        attachment_storage.place(received, "ab" * 16)
        assert not received.path.exists()
        row_ = type("Row", (), {"content_type": "application/pdf", "original_name": "材料.pdf"})()
        response = file_response(row_, attachment_storage.readable("ab" * 16))
        response.direct_passthrough = False
        assert response.get_data() == b"%PDF-1.4 data"
        attachment_storage.remove("ab" * 16)
        assert not store.exists("attachments/ab/" + "ab" * 16)
    local = Path(app.instance_path)  # where the local storage would have put them
    assert not (local / batch.stored_path).exists() and not (local / batch.report_path).exists()
    assert not (local / key).exists()

"""The import job: idempotent (RQ delivers at least once) and all-or-nothing per file."""
from __future__ import annotations

from crm.audit.listener import set_actor
from crm.extensions import db, redis_store
from crm.interchange import importer, services
from crm.interchange.models import ImportBatch, ImportStatus
from crm.interchange.readers import FileError, estimated_rows
from crm.storage import storage


def run_import_job(batch_id: int) -> str:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        return "missing"
    if batch.status in (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.UNDONE):
        return batch.status  # delivered twice: the first run decided already
    return execute(batch)


def execute(batch: ImportBatch, echo=None) -> str:
    """Run one import to its end; the lead writes commit together or not at all."""
    user = batch.created_by
    set_actor(user.id, import_batch=batch.id)  # its entries name the import (crm.audit.words)
    key = services.progress_key(batch.id)
    redis_store.client.set(key, 0, ex=86400)
    batch.status = ImportStatus.RUNNING.value
    # The preview read the first rows only: the progress bar's length is the file's own count
    # (an .xlsx's dimension, a CSV's lines), made exact when the job ends.
    with storage().local_path(services.file_key(batch.stored_path)) as path:
        estimate = estimated_rows(path, batch.filename)
    if estimate is not None:
        batch.total_rows = max(batch.total_rows or 0, estimate - 1)
    db.session.commit()  # the status is visible while the import runs; no lead written yet

    def progress(done: int) -> None:
        redis_store.client.set(key, done, ex=86400)
        if echo:
            echo(done)

    try:
        rejected, headers = importer.run(batch, user, progress=progress)
    except importer.ImportRejected as exc:
        db.session.rollback()
        batch = db.session.get(ImportBatch, batch.id)
        headers = exc.headers
        importer.set_decision(batch, importer.TOTALS, [list(t) for t in exc.totals])
        services.write_report(batch, headers, exc.rejected, exc.totals)
        batch.rejected_count = len(exc.rejected)
        services.finish(batch, ImportStatus.FAILED, f"{len(exc.rejected)} rows rejected; nothing imported")
        db.session.commit()
        return batch.status
    except FileError as exc:
        db.session.rollback()
        batch = db.session.get(ImportBatch, batch.id)
        services.finish(batch, ImportStatus.FAILED, str(exc))
        db.session.commit()
        return batch.status
    finally:
        set_actor(None)
    services.write_report(batch, headers, rejected, (batch.decisions or {}).get(importer.TOTALS) or [])
    services.finish(batch, ImportStatus.DONE)
    db.session.commit()
    redis_store.client.set(key, batch.total_rows, ex=86400)
    return batch.status


def purge_old_files() -> int:
    """Periodic: delete the uploaded file and report of every import finished (done, failed,
    undone) or abandoned at its preview more than IMPORT_FILE_RETENTION_DAYS ago. Idempotent:
    a purged import is marked and not looked at again; a file already gone is no error."""
    from datetime import timedelta

    from flask import current_app
    from flask_babel import gettext as _
    from sqlalchemy import and_, or_, select

    from crm import clock
    from crm.storage import storage

    days = current_app.config["IMPORT_FILE_RETENTION_DAYS"]
    now = clock.now()
    before = now - timedelta(days=days)
    finished = (ImportStatus.DONE.value, ImportStatus.FAILED.value, ImportStatus.UNDONE.value)
    batches = db.session.scalars(select(ImportBatch).where(
        ImportBatch.files_deleted_at.is_(None),
        or_(and_(ImportBatch.status.in_(finished), ImportBatch.finished_at < before),
            and_(ImportBatch.status == ImportStatus.PREVIEWED.value, ImportBatch.created_at < before)))).all()
    for batch in batches:
        folder = services.own_folder(batch.stored_path)
        if folder is not None:  # only a folder of our own making (store_upload's uuid folder)
            storage().delete_prefix(folder)
        if batch.status == ImportStatus.PREVIEWED:
            services.finish(batch, ImportStatus.FAILED,
                            _("Not confirmed within %(days)s days; the uploaded file was deleted.", days=days))
        batch.report_path = None
        batch.files_deleted_at = now
    db.session.commit()
    return len(batches)

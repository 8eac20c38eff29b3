"""The import's COPYs written by a thread while the next rows are checked (issue 19,
crm.bulk.streamed_copies): same rows, same order, one transaction, an error in the thread
rolls the whole import back."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from crm import bulk, database
from crm.audit.models import AuditEntry
from crm.extensions import db
from crm.interchange import importer
from crm.interchange.models import ImportedLead
from crm.leads.models import Lead, LeadStageChange, StageReached
from tests import factories
from tests.import_files import csv_bytes, row, run_import


def _audit_rows(user, n: int) -> list[dict]:
    """n audit entries of a made-up kind ("streamed"), to be counted back."""
    return [{"at": database.utcnow(), "actor_id": user.id, "action": "create", "entity_type": "streamed",
             "entity_id": i, "changes": {"n": [None, i]}} for i in range(n)]


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


@pytest.fixture()
def admin(client, db_session):
    user = factories.user(roles=["admin"])
    factories.source("上海将乐商会", kind="chamber")
    client.login(user)
    return user


@pytest.fixture()
def small_batches(monkeypatch):
    """Chunks of 10 rows, so a file of 35 rows is written in four."""
    monkeypatch.setattr(importer, "BATCH", 10)


def _file(n: int) -> bytes:
    return csv_bytes([row(name=f"福建流式{i}号科技有限公司", stage="洽谈" if i % 3 else "线索") for i in range(n)])


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _lead_entries() -> int:
    """Audit entries of leads (the batch's own, committed before the import starts, aside)."""
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type == "leads"))


def _copy_threads() -> list:
    return [t for t in threading.enumerate() if t.name == "crm-copy"]


def test_ids_reserved_match_the_rows_written_with_them(client, admin, small_batches):
    assert run_import(client, admin, _file(35), "线索.csv") == "done"
    leads = dict(db.session.execute(select(Lead.id, Lead.company_name)).all())
    assert len(leads) == 35 and len(set(leads.values())) == 35
    moved = set(db.session.scalars(select(Lead.id).where(Lead.stage == "negotiating")))
    assert len(moved) == 23
    audited = {entity_id: changes["company_name"][1] for entity_id, changes in db.session.execute(
        select(AuditEntry.entity_id, AuditEntry.changes)
        .where(AuditEntry.entity_type == "leads", AuditEntry.action == "create"))}
    assert audited == leads  # each lead's audit entry carries that lead's own name
    assert set(db.session.scalars(select(ImportedLead.lead_id))) == set(leads)
    changes = set(db.session.execute(select(LeadStageChange.lead_id, LeadStageChange.to_stage)).all())
    assert {lead_id for lead_id, to_stage in changes if to_stage == "negotiating"} == moved
    assert {lead_id for lead_id, _to in changes} <= set(leads)
    reached = set(db.session.scalars(select(StageReached.lead_id).where(StageReached.stage == "negotiating")))
    assert reached == moved
    assert not _copy_threads()


def test_an_error_in_the_writer_thread_mid_import_leaves_nothing_written(client, admin, small_batches, monkeypatch):
    if not _postgres():
        pytest.skip("the writer thread runs on PostgreSQL only (SQLite: executemany in the caller's thread)")
    real_send, calls = bulk._send, []

    def failing_send(driver, sql, data):
        calls.append(threading.current_thread().name)
        if len(calls) == 12:  # the third chunk's: two chunks are written already
            raise RuntimeError("injected COPY failure")
        return real_send(driver, sql, data)

    monkeypatch.setattr(bulk, "_send", failing_send)
    before = {model: _count(model) for model in (Lead, ImportedLead, LeadStageChange, StageReached)}
    before["lead audit"] = _lead_entries()
    with pytest.raises(RuntimeError, match="injected COPY failure"):
        run_import(client, admin, _file(35), "线索.csv")
    db.session.rollback()
    assert set(calls) == {"crm-copy"}  # every COPY of the import ran in the writer thread
    after = {model: _count(model) for model in (Lead, ImportedLead, LeadStageChange, StageReached)}
    assert {**after, "lead audit": _lead_entries()} == before
    assert not _copy_threads()


def test_a_statement_in_the_block_sees_the_rows_queued_before_it(app, db_session):
    if not _postgres():
        pytest.skip("PostgreSQL only (SQLite: bulk_insert is an executemany in the caller's thread)")
    user = factories.user()
    with bulk.streamed_copies(db.session):
        bulk.bulk_insert(db.session, AuditEntry.__table__, _audit_rows(user, 500))
        seen = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.entity_type == "streamed"))
        assert _copy_threads()
    assert seen == 500
    assert not _copy_threads()


def test_a_database_error_in_the_writer_is_raised_in_the_callers_thread(app, db_session):
    if not _postgres():
        pytest.skip("PostgreSQL only")
    import psycopg

    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        with bulk.streamed_copies(db.session):
            bulk.bulk_insert(db.session, ImportedLead.__table__, [
                {"batch_id": 999_999_999, "lead_id": 999_999_999, "action": "created", "version_after": 1,
                 "before": None}])
    db.session.rollback()
    assert not _copy_threads()


def test_a_commit_in_the_block_waits_for_the_queued_copies(app, db_session):
    if not _postgres():
        pytest.skip("PostgreSQL only")
    user = factories.user()
    with bulk.streamed_copies(db.session):
        bulk.bulk_insert(db.session, AuditEntry.__table__, _audit_rows(user, 2000))
        db.session.commit()  # the test's savepoint: released after the COPY, not in its middle
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.entity_type == "streamed")) == 2000

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import Unit, User
from crm.database import Base, utcnow


class ImportStatus(StrEnum):
    PREVIEWED = "previewed"   # analysed, waiting for the user's confirmation
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"         # nothing was imported; see error and the report
    UNDONE = "undone"


class ImportMode(StrEnum):
    CREATE = "create"         # matching leads are skipped (unless the row says create)
    UPSERT = "upsert"         # matching leads of the importer's unit are updated


# Reserved entries of ImportBatch.decisions (JSON), beside the per-row choices keyed by row number:
OPTIONS = "_references"   # {"create": bool, "unit_kinds": {name: kind}, "node_tiers": [[chain, node, tier]]}
PENDING = "_pending"      # the preview's new units [[name, kind told by the name]] and nodes [[chain, node]]
TOTALS = "_totals"        # [[row number, label]] of the totals rows skipped (合计, 小计 …)


class ImportBatch(Base):
    """One uploaded file: who, when, what it held, what became of each row."""

    __tablename__ = "import_batches"
    __audit__ = True
    __audit_ignore__ = ("preview",)  # a cache of what the file says, not a change of the import

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))  # default owner of the rows
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(10), default=ImportMode.CREATE.value)
    valid_rows_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # An administrator's historical ledger import: outcomes (签约, 开工 …) with the file's dates.
    history: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(12), default=ImportStatus.PREVIEWED.value, index=True)
    decisions: Mapped[dict] = mapped_column(JSON, default=dict)  # row number → create/update/skip
    # The preview page as its first visit computed it (crm.interchange.previews): later visits
    # do not read the file again. Dropped when the import is confirmed.
    preview: Mapped[dict | None] = mapped_column(JSON)
    job_id: Mapped[str | None] = mapped_column(String(64))
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    report_path: Mapped[str | None] = mapped_column(String(500))
    finished_at: Mapped[datetime | None]
    # When the uploaded file and the report were deleted (after IMPORT_FILE_RETENTION_DAYS).
    files_deleted_at: Mapped[datetime | None]

    created_by: Mapped[User] = relationship()
    unit: Mapped[Unit] = relationship()


class ImportedLead(Base):
    """A lead an import created or updated, with what undoing it needs."""

    __tablename__ = "imported_leads"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: undo may delete the lead
    action: Mapped[str] = mapped_column(String(10))  # created / updated
    version_after: Mapped[int] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSON)  # updated: the fields as they were

"""Import rules: store an upload, confirm it, undo it, and write the report of rejected rows."""
from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from crm import signals
from crm.auth.models import Unit, User
from crm.database import utcnow
from crm.extensions import db, redis_store
from crm.interchange.models import OPTIONS, PENDING, TOTALS, ImportBatch, ImportedLead, ImportMode, ImportStatus
from crm.interchange.totals import SUMS_ONLY
from crm.leads.models import Lead, LeadStageChange
from crm.leads.pipeline import Stage
from crm.storage import HashingReader, storage

_OPEN_WORKFLOW = (Stage.SCREENING.value, Stage.AWAITING_DECISION.value)


class ImportError_(ValueError):
    """A rule about imports was broken; the message is for the user."""


_OWN_FOLDER = re.compile(r"^imports/[0-9a-f]{32}$")


def file_key(stored: str) -> str:
    """The storage key (crm.storage) of an import's file or report. Rows from before the storage
    layer hold an absolute path <instance>/imports/<folder>/<name>: the same key."""
    if stored.startswith("imports/"):
        return stored
    parts = [p for p in Path(stored).parts if p != "/"]
    return "imports/" + "/".join(parts[-2:])


def own_folder(stored: str) -> str | None:
    """The key of the folder store_upload made for this file (to delete it whole), else None."""
    folder = file_key(stored).rsplit("/", 1)[0]
    return folder if _OWN_FOLDER.match(folder) else None


def _safe_name(filename: str) -> str:
    name = Path(filename or "upload").name
    return re.sub(r"[^\w.\-]+", "_", name)[-120:] or "upload"


def store_upload(stream, filename: str, user: User, unit: Unit, mode: str,
                 valid_rows_only: bool = False, history: bool = False, create_missing: bool = False,
                 unit_kinds: dict | None = None) -> ImportBatch:
    """`history`: the historical ledger import, an administrator's only (checked by every door
    too; this is the rule's own guard). `create_missing`: create the chains, nodes and units the
    file names and nobody has (only for team leads and administrators, crm.interchange.importer),
    units of the kinds given in `unit_kinds` (name → kind) or told by their names."""
    from crm.interchange.importer import can_import_history

    if history and not can_import_history(user):
        raise PermissionError("the historical ledger import is for administrators")
    if Path(filename or "").suffix.lower() not in (".xlsx", ".csv"):
        raise ImportError_(_("Upload an .xlsx or .csv file."))
    if mode not in {m.value for m in ImportMode}:
        raise ImportError_(_("Unknown import mode."))
    # No leading dot: such names are temp files to the storage's listing (and to backups).
    key = f"imports/{uuid.uuid4().hex}/{_safe_name(filename).lstrip('.') or 'upload'}"
    reader = HashingReader(stream)
    storage().put(key, reader)
    batch = ImportBatch(created_by=user, unit=unit, filename=Path(filename).name[:255], stored_path=key,
                        sha256=reader.sha256.hexdigest(), mode=mode, valid_rows_only=valid_rows_only, history=history,
                        status=ImportStatus.PREVIEWED.value,
                        decisions={OPTIONS: {"create": bool(create_missing), "unit_kinds": dict(unit_kinds or {}),
                                             "node_tiers": []}})
    db.session.add(batch)
    db.session.flush()
    return batch


def confirm(batch: ImportBatch, decisions: dict, valid_rows_only: bool, unit_kinds: dict | None = None,
            node_tiers: dict | None = None) -> None:
    """Queue the import; the job starts once this transaction commits. unit_kinds / node_tiers:
    the preview's choices for the units and chain nodes it would create (name → kind, (chain,
    node) → tier); every new unit whose name does not tell its kind needs one."""
    from crm.auth.models import UnitKind
    from crm.chains.models import Tier
    from crm.interchange.importer import DEFAULT_TIER, _unit_kind
    from crm.interchange.jobs import run_import_job
    from crm.queue import enqueue_after_commit

    if batch.status != ImportStatus.PREVIEWED:
        raise ImportError_(_("This import was already started."))
    stored = batch.decisions or {}
    options = dict(stored.get(OPTIONS) or {})
    pending = stored.get(PENDING) or {}
    kinds, unit_kinds = dict(options.get("unit_kinds") or {}), unit_kinds or {}
    for name, guessed in pending.get("units") or []:
        kind = unit_kinds.get(name) or kinds.get(name) or guessed or _unit_kind(name)
        if kind not in {k.value for k in UnitKind}:
            raise ImportError_(_("Choose the kind of the new unit “%(v)s” (town, department, investment group "
                                 "or park).", v=name))
        kinds[name] = kind
    tiers, node_tiers = [], node_tiers or {}
    for chain, node in pending.get("nodes") or []:
        tier = node_tiers.get((chain, node)) or DEFAULT_TIER
        if tier not in {t.value for t in Tier}:
            raise ImportError_(_("Choose upstream, midstream or downstream."))
        tiers.append([chain, node, tier])
    options.update(unit_kinds=kinds, node_tiers=tiers)
    batch.decisions = {**{str(k): v for k, v in decisions.items() if v in ("create", "update", "skip")},
                       OPTIONS: options, PENDING: pending, TOTALS: stored.get(TOTALS) or []}
    batch.valid_rows_only = valid_rows_only
    batch.status = ImportStatus.QUEUED.value
    batch.preview = None  # shown no more
    batch.job_id = f"{current_app.config['REDIS_PREFIX']}-import-{batch.id}"
    db.session.flush()
    enqueue_after_commit("slow", run_import_job, batch.id, job_id=batch.job_id, retries=2)


def progress_key(batch_id: int) -> str:
    return f"{current_app.config['REDIS_PREFIX']}:import:{batch_id}:done"


def progress(batch: ImportBatch) -> dict:
    done = redis_store.client.get(progress_key(batch.id))
    done = int(done) if done else (batch.total_rows if batch.status == ImportStatus.DONE else 0)
    state = {"id": batch.id, "status": batch.status, "done": done, "total": batch.total_rows,
             "created": batch.created_count, "updated": batch.updated_count,
             "skipped": batch.skipped_count, "rejected": batch.rejected_count, "error": batch.error}
    if batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        from crm import jobstatus

        job = jobstatus.job_state(batch.job_id)  # a dead worker, a retry (the outbox), the final failure
        if job.state == jobstatus.FAILED:
            state["status"] = ImportStatus.FAILED.value
            state["error"] = _("The import job stopped before the end and will not be retried; nothing "
                               "was imported. Upload the file again.")
        state["notice"] = job.notice
    return state


def changed_since(batch: ImportBatch) -> list[int]:
    """Leads of this import changed (or deleted) after it: while any exist, undo is refused."""
    rows = db.session.execute(select(ImportedLead.lead_id, ImportedLead.version_after, Lead.version)
                              .outerjoin(Lead, Lead.id == ImportedLead.lead_id)
                              .where(ImportedLead.batch_id == batch.id)).all()
    return [lead_id for lead_id, after, now in rows if now is None or now != after]


def undo(batch: ImportBatch, actor: User | None = None) -> int:
    if batch.status != ImportStatus.DONE:
        raise ImportError_(_("Only a finished import can be undone."))
    changed = changed_since(batch)
    if changed:
        shown = ", ".join(f"#{i}" for i in changed[:10])
        raise ImportError_(_("%(n)s leads of this import were changed since (%(ids)s); it can no longer be undone.",
                             n=len(changed), ids=shown))
    records = db.session.scalars(select(ImportedLead).where(ImportedLead.batch_id == batch.id)).all()
    # A lead the import took out of pre-screening or the decision had its case withdrawn: putting
    # it back would leave it there with no open case.
    left_workflow = [r.lead_id for r in records if (r.before or {}).get("stage") in _OPEN_WORKFLOW]
    if left_workflow:
        raise ImportError_(_("This import moved leads out of pre-screening or the collective decision (%(ids)s); "
                             "it can no longer be undone.", ids=", ".join(f"#{i}" for i in left_workflow[:10])))
    from crm.contacts.services import remove_import_contacts

    remove_import_contacts(batch.id)  # the contacts it added (crm.contacts.interchange)
    leads = {lead.id: lead for lead in db.session.scalars(
        select(Lead).where(Lead.id.in_([r.lead_id for r in records])))}
    for record in records:
        lead = leads[record.lead_id]
        if record.action == "created":
            db.session.delete(lead)
            continue
        before = record.before or {}
        if "stage" in before and before["stage"] != lead.stage:
            # The move back is recorded like any other, so the lead's history stays whole.
            db.session.add(LeadStageChange(lead=lead, from_stage=lead.stage, to_stage=before["stage"],
                                           reason=f"undo import #{batch.id}", changed_by=actor))
        for key, value in before.items():
            column = Lead.__table__.c[key]
            setattr(lead, key, _restore(column, value))
    batch.status = ImportStatus.UNDONE.value
    db.session.flush()
    signals.leads_bulk_changed.send(lead_ids=[r.lead_id for r in records if r.action != "created"])
    return len(records)


def _restore(column, value):
    """Back from the audit's plain form (strings for decimals and dates) to the column's type."""
    from datetime import date
    from decimal import Decimal

    if value is None:
        return None
    python_type = column.type.python_type
    if python_type is Decimal:
        return Decimal(value)
    if python_type is date:
        return date.fromisoformat(value)
    return value


def write_report(batch: ImportBatch, headers: list[str], rejected, totals=()) -> str | None:
    """An .xlsx of every rejected row: the original columns (fix and upload again), then the row
    number and the reasons (unknown columns, ignored on the next import); and on a second sheet
    the totals rows (合计, 小计 …) that were skipped, neither errors nor imported."""
    if not rejected and not totals:
        return None
    import xlsxwriter

    from crm.interchange.columns import safe_cell

    key = file_key(batch.stored_path).rsplit("/", 1)[0] + "/rejected-rows.xlsx"
    work = tempfile.TemporaryDirectory(prefix="crm-report-")
    path = Path(work.name) / "rejected-rows.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False})
    sheet = workbook.add_worksheet("被拒绝的行")
    bold = workbook.add_format({"bold": True})
    head = list(headers) + ["原行号", "错误列", "错误原因"]
    for col, text in enumerate(head):
        sheet.write_string(0, col, text, bold)
    for r, row in enumerate(rejected, start=1):
        for col in range(len(headers)):
            value = row.cells[col] if col < len(row.cells) else None
            if value is None:
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, str(safe_cell(value if isinstance(value, str) else str(value))))
        sheet.write_number(r, len(headers), row.number)
        sheet.write_string(r, len(headers) + 1, "；".join(dict.fromkeys(h for h, _m in row.errors)))
        sheet.write_string(r, len(headers) + 2, "；".join(f"{h}：{m}" for h, m in row.errors))
    sheet.freeze_panes(1, 0)
    if totals:
        skipped = workbook.add_worksheet("跳过的合计行")
        for col, text in enumerate(("原行号", "合计行", "说明")):
            skipped.write_string(0, col, text, bold)
        for r, (number, label) in enumerate(totals, start=1):
            skipped.write_number(r, 0, number)
            skipped.write_string(r, 1, "（只有求和数）" if label == SUMS_ONLY else str(safe_cell(str(label))))
            skipped.write_string(r, 2, "合计/小计行：已跳过，未导入，不算错误")
        skipped.set_column(1, 2, 30)
    workbook.close()
    with work:
        storage().put_file(key, path)
    batch.report_path = key
    return key


def finish(batch: ImportBatch, status: ImportStatus, error: str | None = None) -> None:
    batch.status = status.value
    batch.error = error
    batch.finished_at = utcnow()
    db.session.flush()

"""The audit log in words: what a lead's 变更记录 and the admin audit log show.

Every entry becomes its actor's name, the action, and one line per field a person changed, with
the field's label and its values in the reader's language: chain, node, unit, source, user and
lead names instead of ids, stage and kind names, 是/否, amounts with 万元. Internal columns (name
keys, score columns, flags, versions, editor ids) are never shown, and an update that changed
nothing else (e.g. only the score-pending mark, written before crm.audit.listener left such
columns out) is not shown at all. An entry written by an import names it (file and date, with a
link for those who may open it). A contact's phone, WeChat and e-mail are masked for readers who
may not see them (crm.contacts.access).

Names are loaded in bulk: one query per kind of record named on the page, never one per entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.extensions import db

# Never shown, whatever the record: bookkeeping a person did not change.
INTERNAL = frozenset({
    "company_key", "score_pending", "p_sign", "p_land", "score_grade", "score_source",
    "score_model_version", "scored_at", "updated_by_id", "version", "updated_at", "created_at",
    "imported_history", "import_batch", "import_batch_id", "contact_id", "sha256", "stored_path",
    "report_path", "job_id", "decisions", "session_token", "token_hash",
})
# In a contact's entry (filed under its lead), these belong to the contact row itself.
CONTACT_INTERNAL = frozenset({"lead_id", "created_by_id"})
CONTACT_PREFIX = "contact_"

ACTION_LABELS = {
    "create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"),
    "stage": _l("Stage changed"), "login": _l("Logged in"), "logout": _l("Logged out"),
    "contact_create": _l("Contact added"), "contact_update": _l("Contact changed"),
    "contact_delete": _l("Contact removed"),
    "job_retry": _l("Failed job run again"), "job_discard": _l("Failed job discarded"),
}

ENTITY_LABELS = {
    "leads": _l("Lead"), "lead_activities": _l("Follow-ups"), "sources": _l("Source"),
    "users": _l("User"), "user_roles": _l("Roles"), "units": _l("Unit"), "import_batches": _l("Import"),
    "chains": _l("Industry chain"), "chain_nodes": _l("Chain node"), "chain_targets": _l("Target company"),
    "chain_enterprises": _l("Local firm"), "screening_cases": _l("Pre-screening case"),
    "screening_opinions": _l("Pre-screening opinion"), "meetings": _l("Decision meeting"),
    "agenda_items": _l("Agenda item"), "votes": _l("Vote"), "decision_proposals": _l("Proposal for the agenda"),
    "agreements": _l("Investment agreement"), "milestone_plans": _l("Milestone plan"),
    "milestone_actuals": _l("Milestone reached"), "investment_entries": _l("Investment made (daozi)"),
    "step_records": _l("Step reached"), "yearly_results": _l("Yearly output and tax"),
    "project_problems": _l("Problem"), "tracking_letters": _l("Letter"), "attachments": _l("Attachment"),
    "api_tokens": _l("API token"), "background_jobs": _l("Background job"),
}

# Labels of fields outside the lead form, by key (the lead form's own labels come first).
_EXTRA_LABELS = {
    "stage": _l("Stage"), "lost_reason": _l("Reason terminated"), "signed_on": _l("Signed on"),
    "started_on": _l("Construction started on"), "owner_unit_id": _l("Unit"), "unit_id": _l("Unit"),
    "name": _l("Name"), "kind": _l("Kind"), "status": _l("Status"), "active": _l("Active"),
    "full_name": _l("Full name"), "username": _l("Username"), "email": _l("E-mail"),
    "password_hash": _l("Password"), "lead_id": _l("Lead"), "user_id": _l("User"),
    "summary": _l("What happened"), "occurred_on": _l("Date"), "next_follow_up_on": _l("Next follow-up"),
    "filename": _l("File"), "due_on": _l("Due date"), "reason": _l("Reason"),
    "job": _l("Job"), "function": _l("Function"), "queue": _l("Queue"),
}

# Targets whose name stands in for an id, and how to read it.
_NAMED = {
    "units": ("crm.auth.models", "Unit", "name"),
    "users": ("crm.auth.models", "User", None),
    "chains": ("crm.chains.models", "Chain", "name"),
    "chain_nodes": ("crm.chains.models", "ChainNode", "name"),
    "sources": ("crm.leads.models", "Source", "name"),
    "leads": ("crm.leads.models", "Lead", "company_name"),
}
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@dataclass
class Line:
    label: str
    before: str
    after: str
    changed: bool = True


@dataclass
class ImportRef:
    id: int
    filename: str | None
    at: datetime | None
    url: str | None


@dataclass
class Described:
    id: int
    at: datetime
    actor: str | None
    action: str
    kind: str          # the raw action
    entity_type: str
    entity_id: int | None
    record: str        # e.g. 线索 #12 福建某某有限公司
    record_url: str | None
    lines: list[Line] = field(default_factory=list)
    import_ref: ImportRef | None = None


def entity_label(entity_type: str) -> str:
    label = ENTITY_LABELS.get(entity_type)
    return f"{label}（{entity_type}）" if label is not None else entity_type


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


# --- labels -------------------------------------------------------------------------------------
_lead_labels_cache: dict | None = None


def _lead_labels() -> dict:
    global _lead_labels_cache
    if _lead_labels_cache is None:
        from crm.leads.forms import LeadForm

        labels = {}
        for name in LeadForm.LEAD_FIELDS:
            unbound = getattr(LeadForm, name, None)
            if unbound is not None and unbound.args:
                labels[name] = unbound.args[0]
        _lead_labels_cache = labels
    return _lead_labels_cache


_UNIT_IN_LABEL = re.compile(r"\s*[（(](?:万元|亩|10k yuan|mu)[)）]$")


def field_label(key: str, contact: bool = False) -> str:
    if contact:
        from crm.contacts.models import CONTACT_LABELS

        if key in CONTACT_LABELS:
            return str(CONTACT_LABELS[key])
    label = _lead_labels().get(key) or _EXTRA_LABELS.get(key)
    if label is None:
        return key
    if key.endswith(("_wan", "_mu")):  # the value carries the unit (100 万元)
        return _UNIT_IN_LABEL.sub("", str(label))
    return str(label)


# --- foreign keys -------------------------------------------------------------------------------
_fk_cache: dict[str, dict[str, str]] = {}


def _foreign_keys(table_name: str) -> dict[str, str]:
    """column → the table it refers to, for a table of the models' metadata."""
    if table_name not in _fk_cache:
        table = db.metadata.tables.get(table_name)
        out = {}
        if table is not None:
            for column in table.columns:
                for fk in column.foreign_keys:
                    out[column.key] = fk.column.table.name
        _fk_cache[table_name] = out
    return _fk_cache[table_name]


def _table_of(entry) -> str:
    return "lead_contacts" if entry.action.startswith(CONTACT_PREFIX) else entry.entity_type


def _load_names(wanted: dict[str, set[int]]) -> dict[str, dict[int, str]]:
    """{table: {id: name}}, one query per table."""
    import importlib

    names: dict[str, dict[int, str]] = {}
    for table, ids in wanted.items():
        ids = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
        if table not in _NAMED or not ids:
            continue
        module, cls_name, attr = _NAMED[table]
        model = getattr(importlib.import_module(module), cls_name)
        if attr is None:  # users: the display name
            rows = db.session.execute(select(model.id, model.full_name, model.username).where(model.id.in_(ids)))
            names[table] = {i: (full or user) for i, full, user in rows}
        else:
            rows = db.session.execute(select(model.id, getattr(model, attr)).where(model.id.in_(ids)))
            names[table] = dict(rows.all())
    return names


# --- values -------------------------------------------------------------------------------------
def _amount(value) -> str:
    from crm.formatting import amount

    try:
        return amount(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _value(key: str, value, table: str, names: dict, fks: dict) -> str:
    from crm.formatting import local_datetime, yes_no

    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return yes_no(value)
    if key in fks:
        target = fks[key]
        if target in _NAMED:
            return names.get(target, {}).get(value) or f"#{value}"
        return f"#{value}"
    if key in ("stage", "from_stage", "to_stage"):
        from crm.leads.pipeline import stage_label

        return str(stage_label(value))
    if key == "source_kind" or (table == "sources" and key == "kind"):
        from crm.leads.models import SOURCE_KIND_LABELS

        return str(SOURCE_KIND_LABELS.get(value, value))
    if table == "lead_activities" and key == "kind":
        from crm.leads.models import ACTIVITY_KIND_LABELS

        return str(ACTIVITY_KIND_LABELS.get(value, value))
    if key == "roles" and isinstance(value, list):
        from crm.auth.roles import ROLE_LABELS

        return "、".join(str(ROLE_LABELS.get(r, r)) for r in value)
    if key.endswith("_wan"):
        return _("%(amount)s 10k yuan", amount=_amount(value))
    if key.endswith("_mu"):
        return _("%(amount)s mu", amount=_amount(value))
    if key in ("rd_ratio",):
        return f"{_amount(value)}%"
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        try:
            return local_datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, (list, dict)):
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return str(value)


# --- entries ------------------------------------------------------------------------------------
def describe(entries, reader) -> list[Described]:
    """The entries in words for `reader`, bookkeeping-only updates left out."""
    from crm.contacts.access import sees_personal_data
    from crm.contacts.models import PERSONAL_FIELDS
    from crm.contacts.phones import mask

    entries = list(entries)
    wanted: dict[str, set[int]] = {"users": set(), "leads": set()}
    batch_ids: set[int] = set()
    for entry in entries:
        if entry.actor_id:
            wanted["users"].add(entry.actor_id)
        if entry.entity_type == "leads" and entry.entity_id:
            wanted["leads"].add(entry.entity_id)
        fks = _foreign_keys(_table_of(entry))
        for key, pair in (entry.changes or {}).items():
            if key == "import_batch":
                batch_ids.update(v for v in pair if isinstance(v, int))
            elif key in fks and isinstance(pair, list):
                wanted.setdefault(fks[key], set()).update(v for v in pair if v is not None)
    lead_ids = wanted.pop("leads")
    names = _load_names(wanted)
    names["leads"], units_of_leads = _load_leads(lead_ids)
    batches = _load_batches(batch_ids, reader)

    out = []
    for entry in entries:
        table = _table_of(entry)
        contact = table == "lead_contacts"
        fks = _foreign_keys(table)
        hidden = INTERNAL | (CONTACT_INTERNAL if contact else frozenset())
        masked = contact and not sees_personal_data(reader, units_of_leads.get(entry.entity_id))
        lines = []
        for key, pair in (entry.changes or {}).items():
            if key in hidden or not isinstance(pair, list) or len(pair) != 2:
                continue
            before, after = pair
            if masked and key in PERSONAL_FIELDS:
                before, after = mask(before), mask(after)
            shown_before, shown_after = _value(key, before, table, names, fks), _value(key, after, table, names, fks)
            changed = shown_before != shown_after
            if not changed and entry.action in ("update", "stage"):
                continue  # None → "" and the like: nothing a reader would call a change
            lines.append(Line(field_label(key, contact), shown_before, shown_after, changed=changed))
        is_update = entry.action in ("update", "contact_update")
        if is_update and not any(line.changed for line in lines):
            continue  # bookkeeping only: not a person's change
        batch_id = _batch_of(entry)
        out.append(Described(
            id=entry.id, at=entry.at, actor=names.get("users", {}).get(entry.actor_id) if entry.actor_id else None,
            action=action_label(entry.action), kind=entry.action, entity_type=entry.entity_type,
            entity_id=entry.entity_id, record=_record(entry, names), record_url=_record_url(entry),
            lines=lines, import_ref=batches.get(batch_id) if batch_id else None))
    return out


def _batch_of(entry) -> int | None:
    pair = (entry.changes or {}).get("import_batch")
    if isinstance(pair, list):
        for value in pair:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


def _load_leads(lead_ids: set[int]) -> tuple[dict[int, str], dict[int, int]]:
    """The leads' company names and owner units, in one query."""
    lead_ids = {i for i in lead_ids if isinstance(i, int) and not isinstance(i, bool)}
    if not lead_ids:
        return {}, {}
    from crm.leads.models import Lead

    names, units = {}, {}
    for lead_id, company, unit_id in db.session.execute(
            select(Lead.id, Lead.company_name, Lead.owner_unit_id).where(Lead.id.in_(lead_ids))):
        names[lead_id], units[lead_id] = company, unit_id
    return names, units


def _load_batches(ids: set[int], reader) -> dict[int, ImportRef]:
    if not ids:
        return {}
    from crm.auth.roles import Permission
    from crm.interchange.models import ImportBatch

    rows = db.session.execute(select(ImportBatch.id, ImportBatch.filename, ImportBatch.created_at,
                                     ImportBatch.unit_id).where(ImportBatch.id.in_(ids)))
    may_import = reader.can(Permission.LEADS_IMPORT)
    all_units = reader.can(Permission.LEADS_READ_ALL)
    out = {}
    for batch_id, filename, created_at, unit_id in rows:
        opens = may_import and (all_units or unit_id == reader.unit_id)
        out[batch_id] = ImportRef(batch_id, filename, created_at,
                                  url_for("interchange.show_import", batch_id=batch_id) if opens else None)
    for batch_id in ids - set(out):
        out[batch_id] = ImportRef(batch_id, None, None, None)
    return out


def _record(entry, names) -> str:
    label = ENTITY_LABELS.get(entry.entity_type)
    text = f"{label if label is not None else entry.entity_type} #{entry.entity_id}" if entry.entity_id else (
        str(label) if label is not None else entry.entity_type)
    if entry.entity_type == "leads" and entry.entity_id in names.get("leads", {}):
        text += f" {names['leads'][entry.entity_id]}"
    return text


def _record_url(entry) -> str | None:
    if entry.entity_type == "leads" and entry.entity_id:
        return url_for("leads.show", lead_id=entry.entity_id)
    return None

"""Preview and run an import. One streaming pass over the file either way; the run writes in
one transaction, so the database holds the whole import or none of it."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, text

from crm import clock, signals
from crm.audit.listener import plain_value
from crm.audit.models import AuditEntry
from crm.auth.models import Unit, UnitKind, User
from crm.auth.roles import Permission, Role
from crm.contacts import interchange as contact_rows
from crm.bulk import bulk_insert, streamed_copies
from crm.database import utcnow
from crm.extensions import db
from crm.interchange import stages
from crm.interchange.models import OPTIONS, PENDING, TOTALS, ImportBatch, ImportedLead, ImportMode
from crm.interchange.readers import Table, open_table
from crm.chains.models import Chain, ChainNode, Tier
from crm.interchange.rows import (CheckedRow, DuplicateIndex, Lookups, Match, RowReader, company_identity,
                                  unknown_message)
from crm.interchange.totals import TotalsDetector
from crm.leads.models import Lead, LeadStageChange, Source, normalize_company_name
from crm.leads.services import LeadError
from crm.leads.pipeline import Stage

ACTIONS = ("create", "update", "skip")
PREVIEW_LIMIT = 200
BATCH = 1000


class ImportRejected(Exception):
    """Rows were rejected and the user did not choose to import only the valid rows."""

    def __init__(self, rejected: list[CheckedRow], totals: list | None = None, headers: list[str] | None = None):
        super().__init__(f"{len(rejected)} rows rejected")
        self.rejected = rejected
        self.totals = totals or []  # (row number, label) of the totals rows skipped
        self.headers = headers or []  # the file's header row, for the report


def can_create_references(user: User) -> bool:
    """New chains, chain nodes, sources and units named in a file: team leads and administrators
    (officers import only into what exists)."""
    return user.has_role(Role.TEAM_LEAD) or user.has_role(Role.ADMIN)


def can_import_history(user: User) -> bool:
    """The historical ledger import (outcomes with their dates, no case or vote): administrators."""
    return user.has_role(Role.ADMIN)


def _unit_kind(name: str) -> str | None:
    """Kind of a new unit from its name (镇/乡, 园区/开发区, 局/委/办, 招商组/中心, 招商一组);
    None when the name does not say: the importer chooses."""
    for suffixes, kind in ((("镇", "乡", "街道"), "town"), (("园区", "开发区", "园"), "park"),
                           (("招商组", "中心", "专班"), "investment_group"),
                           (("局", "委", "办", "办公室", "委员会"), "department")):
        if name.endswith(suffixes):
            return kind
    if "招商" in name and name.endswith(("组", "队", "分队")):
        return "investment_group"
    return None


DEFAULT_TIER = "midstream"


def reference_options(batch: ImportBatch) -> dict:
    return dict((batch.decisions or {}).get(OPTIONS) or {})


def set_decision(batch: ImportBatch, key: str, value) -> None:
    """One reserved entry of the batch's decisions (a new dict: the JSON column sees the change)."""
    decisions = dict(batch.decisions or {})
    decisions[key] = value
    batch.decisions = decisions


@dataclass
class Plan:
    """What each row would become; filled by walking the file once."""

    table: Table
    total: int = 0
    counts: dict = field(default_factory=lambda: {"create": 0, "update": 0, "skip": 0, "reject": 0})
    first_rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    matches: list = field(default_factory=list)
    new_units: dict = field(default_factory=dict)     # name → kind (None: the importer chooses)
    new_sources: dict = field(default_factory=dict)   # name → kind
    new_chains: dict = field(default_factory=dict)    # name → the chain (None in a preview)
    new_nodes: dict = field(default_factory=dict)     # (chain name, node name) → tier
    totals: list = field(default_factory=list)        # (row number, label) of totals rows, skipped
    notes: int = 0
    complete: bool = True                             # False: a preview that stopped before the end
    estimated_total: int = 0                          # a preview's rows, or about how many the file holds

    @property
    def unclear_units(self) -> list[str]:
        return [name for name, kind in self.new_units.items() if not kind]


class Walker:
    """Checks rows one by one and decides create/update/skip/reject for each."""

    def __init__(self, batch: ImportBatch, user: User, persist: bool):
        self.batch, self.user, self.persist = batch, user, persist
        self.history = bool(batch.history)
        options = reference_options(batch)
        self.may_create = can_create_references(user)
        self.lookups = Lookups(self.may_create, bool(options.get("create")))
        self.unit_kinds = {name: kind for name, kind in (options.get("unit_kinds") or {}).items()
                           if kind in {k.value for k in UnitKind}}
        self.node_tiers = {(chain, node): tier for chain, node, tier in options.get("node_tiers") or []
                           if tier in {t.value for t in Tier}}
        self.index = DuplicateIndex.from_database()
        self.all_units = user.can(Permission.LEADS_READ_ALL)
        self.handled: dict[int, int] = {}  # stored lead id → the row of this file that matched it

    def decide(self, row: CheckedRow) -> str:
        unit = self._unit_for(row)
        self._source_for(row)
        if not row.ok:
            return "reject"
        uscc, key = company_identity(row)
        row.match = self.index.find(uscc, key)
        if row.match is not None and row.match.lead_id in self.handled:
            # A second row of this file for the same stored lead: the first row decides.
            row.match = Match(None, row.match.unit_id, row.match.unit_name, row=self.handled[row.match.lead_id])
        wanted = self.batch.decisions.get(str(row.number))
        if row.match is None:
            action = wanted if wanted in ("create", "skip") else "create"
        else:
            own = row.match.lead_id is not None and unit is not None and row.match.unit_id == unit.id
            default = "update" if (self.batch.mode == ImportMode.UPSERT and own) else "skip"
            action = wanted if wanted in ACTIONS else default
            if action == "update" and not own:
                row.errors.append(("企业名称", _("Only a lead of the same unit can be updated; choose create or skip.")))
                return "reject"
        if action == "create":
            stages.check_create(row, self.history)
        elif action == "update":
            stages.check_update(row, row.match, self.history)
        if not row.ok:
            return "reject"
        # The row passed every check: only now does it claim its lead and its new references.
        if row.match is not None and row.match.lead_id is not None:
            self.handled[row.match.lead_id] = row.number
        if action == "create":
            self.index.add(uscc, key, Match(None, unit.id if unit else None, unit.name if unit else None,
                                            row=row.number))
        if action in ("create", "update"):
            self._keep_new_references(row)
        return action

    def _keep_new_references(self, row: CheckedRow) -> None:
        """Units, sources, chains and nodes a passing row names and nobody has yet: created with
        its import (audited as any change), once each."""
        unit, source = row.values.get("owner_unit"), row.values.get("source")
        if unit is not None and unit.id is None and unit.name not in self._new_units:
            if self.persist:
                db.session.add(unit)
            self.lookups.units[unit.name] = unit
            self._new_units[unit.name] = unit.kind
        if source is not None and source.id is None and self.lookups.sources.get(source.name) is not source:
            if self.persist:
                db.session.add(source)
            self.lookups.sources[source.name] = source
            self._new_sources[source.name] = source.kind
        if row.new_chain:
            chain = self._new_chain(row.new_chain)
            row.values["chain_id"] = chain.id if chain is not None else None
        if row.new_node:
            node = self._new_node(*row.new_node)
            if node is not None:
                row.values["chain_node_id"], row.values["chain_id"] = node.id, node.chain_id

    def _new_chain(self, name: str):
        if name in self._new_chains:
            return self._new_chains[name]
        chain = None
        if self.persist:
            from crm.chains import services as chain_services

            chain = chain_services.save_chain(None, _free_chain_code(), name, _next_position(Chain), None)
        self._new_chains[name] = chain
        return chain

    def _new_node(self, chain_name: str, node_name: str):
        key = (chain_name, node_name)
        if key in self._new_nodes_made:
            return self._new_nodes_made[key]
        tier = self.node_tiers.get(key, DEFAULT_TIER)
        node = None
        if self.persist:
            from crm.chains import services as chain_services

            chain = self.lookups.chains.get(chain_name) or self._new_chain(chain_name)
            node = chain_services.save_node(None, chain, node_name, tier,
                                            _next_position(ChainNode, ChainNode.chain_id == chain.id), None, None)
        self._new_nodes_made[key] = node
        self._new_nodes[key] = tier
        return node

    def _unit_for(self, row: CheckedRow):
        name = row.unit_name
        if not name:
            row.values["owner_unit"] = self.batch.unit
            return self.batch.unit
        unit = self.lookups.units.get(name)
        if unit is None:
            if not self.lookups.create_missing:
                row.errors.append(("责任单位", unknown_message(_("unit"), name, self.lookups)))
                return None
            kind = self.unit_kinds.get(name) or _unit_kind(name)
            if kind is None and self.persist:
                row.errors.append(("责任单位", _("The kind of the new unit “%(v)s” cannot be told from its name: "
                                                "choose it (town, department, investment group or park).", v=name)))
                return None
            unit = Unit(name=name, kind=kind)  # kept only if the row passes (_keep_new_references)
        # Importers without every unit's leads bring their own unit's, and those of units this
        # import creates (an office's sheet names its groups before anyone belongs to them).
        if not self.all_units and unit.name != self.user.unit.name and not (
                unit.id is None or unit.name in self._new_units):
            row.errors.append(("责任单位", _("You can import leads of your own unit (%(unit)s) only.", unit=self.user.unit.name)))
            return None
        row.values["owner_unit"] = unit
        return unit

    def _source_for(self, row: CheckedRow) -> None:
        name = row.source_name
        if not name:
            return
        source = self.lookups.sources.get(name)
        kind = row.values.get("source_kind")
        if source is None:
            if not self.may_create:
                row.errors.append(("线索来源", _("Unknown source “%(v)s”: only a team lead or administrator can create it.", v=name)))
                return
            if not kind:
                row.errors.append(("线索来源类型", _("The new source “%(v)s” needs a source kind.", v=name)))
                return
            source = Source(name=name, kind=kind)  # kept only if the row passes (_keep_new_references)
        elif kind and kind != source.kind:
            row.errors.append(("线索来源类型", _("The source kind differs from the kind of the chosen source.")))
            return
        row.values["source"] = source
        row.values["source_kind"] = source.kind

    _new_units: dict
    _new_sources: dict
    _new_chains: dict
    _new_nodes: dict
    _new_nodes_made: dict

    def walk(self, on_row: Callable[[CheckedRow, str], None], progress=None, limit: int | None = None) -> Plan:
        """Every row, or (limit) the first rows only: a preview stops there, never reading on."""
        from crm.interchange.services import file_key
        from crm.storage import storage

        with storage().local_path(file_key(self.batch.stored_path)) as path:  # a temp copy from S3
            return self._walk(open_table(path, self.batch.filename, preview_rows=limit), on_row, progress, limit)

    def _walk(self, table, on_row, progress, limit) -> Plan:
        from crm.interchange.readers import max_rows, too_many_rows

        plan = Plan(table=table)
        cap = max_rows()
        self._new_units, self._new_sources = plan.new_units, plan.new_sources
        self._new_chains, self._new_nodes, self._new_nodes_made = plan.new_chains, plan.new_nodes, {}
        company = next((pos for pos, col in table.columns.items() if col.key == "company_name"), None)
        totals = TotalsDetector(company, table.sum_cells)
        reader = RowReader(table.columns, self.lookups)
        for number, cells in table.rows:
            if limit is not None and plan.total >= limit:
                plan.complete = False  # one row past the preview: the file goes on
                break
            if plan.total >= cap:
                raise too_many_rows()
            label = totals.check(number, cells)
            if label is not None:
                plan.totals.append((number, label))
                continue
            totals.add(cells)
            row = reader.check(number, cells)
            action = self.decide(row)
            plan.total += 1
            plan.counts[action] += 1
            plan.notes += len(row.notes)
            on_row(row, action)
            if progress and plan.total % 500 == 0:
                progress(plan.total)
        if plan.total == 0:
            from crm.interchange.readers import FileError

            raise FileError(_("The file has headers but no rows."))
        return plan


def _free_chain_code() -> str:
    """A code for a chain created by an import (chains are named by name; the code is for URLs
    and the API): imported_1, imported_2 … the first not taken."""
    n = (db.session.scalar(select(func.count()).select_from(Chain)) or 0) + 1
    while db.session.scalar(select(Chain.id).where(Chain.code == f"imported_{n}")) is not None:
        n += 1
    return f"imported_{n}"


def _next_position(model, *where) -> int:
    return (db.session.scalar(select(func.max(model.position)).where(*where)) or 0) + 1


def preview(batch: ImportBatch, user: User, limit: int | None = None) -> Plan:
    """Walk the file without writing and keep on the batch what the confirmation needs. limit:
    check the first rows only (a web request: a big file's rows are all checked by the job)."""
    plan = walk_preview(batch, user, limit)
    keep_preview(batch, plan)
    return plan


def walk_preview(batch: ImportBatch, user: User, limit: int | None = None) -> Plan:
    """The preview's walk, which neither writes nor changes the batch."""
    from crm.interchange.readers import estimated_rows, max_rows, too_many_rows

    first_rows, problems, matches = [], [], []

    def keep(row, action):
        if len(first_rows) < 10:
            first_rows.append((row, action))
        if action == "reject" and len(problems) < PREVIEW_LIMIT:
            problems.append(row)
        if row.match is not None and len(matches) < PREVIEW_LIMIT:
            matches.append((row, action))

    plan = Walker(batch, user, persist=False).walk(keep, limit=limit)
    plan.first_rows, plan.problems, plan.matches = first_rows, problems, matches
    plan.estimated_total = plan.total
    if not plan.complete:
        # The workbook's own count, when it gives one (cheap): refused now rather than after
        # the confirmation. A CSV's length is known only to the job, which stops at the cap.
        estimate = None
        if batch.filename.lower().endswith(".xlsx"):
            from crm.interchange.services import file_key
            from crm.storage import storage

            with storage().local_path(file_key(batch.stored_path)) as path:
                estimate = estimated_rows(path, batch.filename)
        if estimate is not None:
            estimate -= plan.table.header_row
            if estimate > max_rows():
                raise too_many_rows()
            plan.estimated_total = max(plan.total, estimate)
    return plan


def keep_preview(batch: ImportBatch, plan: Plan) -> None:
    batch.total_rows = plan.estimated_total
    # What the confirm form's choices refer to (a unit's kind, a node's tier), in the page's order.
    set_decision(batch, PENDING, {"units": [[name, kind] for name, kind in plan.new_units.items()],
                                  "nodes": [list(key) for key in plan.new_nodes]})
    set_decision(batch, TOTALS, [list(t) for t in plan.totals[:PREVIEW_LIMIT]])


_LEAD_FIELDS = ("company_name", "uscc", "project_name", "chain_id", "chain_node_id", "source_kind",
                "origin_region", "planned_investment_wan", "fixed_asset_investment_wan", "land_area_mu",
                "expected_output_wan", "expected_tax_wan", "high_tech", "specialized", "patents",
                "rd_ratio", "jobs", "stage", "created_on", "signed_on", "started_on", "lost_reason", "note")


def run(batch: ImportBatch, user: User, progress=None) -> tuple[list[CheckedRow], list[str]]:
    """Import in the current transaction; returns the rejected rows (empty: all imported) and
    the file's headers (for the report).

    Raises ImportRejected when rows were rejected and the batch is all-or-nothing: the caller
    rolls the transaction back.
    """
    now = utcnow()
    rejected: list[CheckedRow] = []
    creates: list[CheckedRow] = []
    updates: list[CheckedRow] = []
    counts = {"create": 0, "update": 0, "skip": 0}

    def flush_creates():
        if creates:
            _insert_leads(batch, user, creates, now)
            creates.clear()

    def flush_updates():
        if not updates:
            return
        # One IN query loads the batch into the identity map; the updates then need no SELECTs.
        db.session.scalars(select(Lead).where(Lead.id.in_([r.match.lead_id for r in updates]))).all()
        for row in updates:
            try:
                changed = _update_lead(batch, user, row)
            except LeadError as exc:  # the lead moved since the file was checked
                row.errors.append(("阶段", str(exc)))
                rejected.append(row)
                continue
            # Same values as stored: nothing to update, so the row counts as skipped.
            counts["update" if changed else "skip"] += 1
        updates.clear()

    def on_row(row: CheckedRow, action: str):
        if action == "reject":
            rejected.append(row)
        elif action == "update":
            updates.append(row)
            if len(updates) >= BATCH:
                flush_updates()
        else:
            counts[action] += 1
            if action == "create":
                creates.append(row)
                if len(creates) >= BATCH:
                    flush_creates()

    walker = Walker(batch, user, persist=True)
    # PostgreSQL writes (and indexes) one thousand rows while the next thousand are checked.
    with _few_collections(), streamed_copies(db.session):
        plan = walker.walk(on_row, progress=progress)
        batch.total_rows = plan.total
        flush_creates()
        flush_updates()
    set_decision(batch, TOTALS, [list(t) for t in plan.totals])
    if rejected and not batch.valid_rows_only:
        raise ImportRejected(rejected, plan.totals, plan.table.headers)
    batch.created_count, batch.updated_count = counts["create"], counts["update"]
    batch.skipped_count, batch.rejected_count = counts["skip"], len(rejected)
    return rejected, plan.table.headers


@contextmanager
def _few_collections():
    """Python's cycle collector, less often while a file is imported. The duplicate index holds
    a few objects per stored lead, and every full collection walked them all again: about half
    of an import's CPU time at 100,000 stored leads. What exists when the walk starts (the app,
    the index) is set aside (gc.freeze) and the youngest generation collected every 50,000
    allocations instead of 700; both undone at the end, whatever happens."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _lead_values(row: CheckedRow, user: User, now, history: bool, today) -> dict:
    unit = row.values["owner_unit"]
    values = {k: row.values.get(k) for k in _LEAD_FIELDS}
    values.update(
        company_key=company_identity(row)[1], source_id=row.values["source"].id if row.values.get("source") else None,
        owner_unit_id=unit.id, owner_id=user.id if unit.id == user.unit_id else None,
        stage=values["stage"] or Stage.LEAD.value, created_on=stages.created_on(values, history, today),
        created_at=now, updated_at=now, updated_by_id=user.id, version=1, imported_history=history)
    return values


def _insert_leads(batch: ImportBatch, user: User, rows: list[CheckedRow], now) -> None:
    """Bulk insert (Core, RETURNING ids) with their stage rows, audit rows and undo records."""
    db.session.flush()  # new units/sources get their ids
    history = bool(batch.history)
    today = clock.today()
    values = [_lead_values(row, user, now, history, today) for row in rows]
    ids = _insert_returning_ids(Lead.__table__, values)
    reason = f"import #{batch.id}"
    changes = [stages.created_changes(i, v, history, user.id, now, reason) for i, v in zip(ids, values)]
    bulk_insert(db.session, LeadStageChange.__table__, [change for lead in changes for change in lead])
    bulk_insert(db.session, AuditEntry.__table__, [
        {"at": now, "actor_id": user.id, "action": "create", "entity_type": "leads", "entity_id": i,
         "changes": _created_snapshot(v, batch.id)} for i, v in zip(ids, values)])
    bulk_insert(db.session, ImportedLead.__table__, [
        {"batch_id": batch.id, "lead_id": i, "action": "created", "version_after": 1, "before": None}
        for i in ids])
    contact_rows.insert_created(batch.id, user.id, rows, ids, now)  # 联系人/职务/联系电话
    # Their stage dates (crm.dashboard), from the history just written.
    signals.leads_bulk_created.send(leads=[
        (i, v["signed_on"], v["started_on"], [(c["to_stage"], c["changed_at"]) for c in lead])
        for i, v, lead in zip(ids, values, changes)])


_NOT_AUDITED = frozenset({"created_at", "updated_at", "version"})


def _created_snapshot(values: dict, batch_id: int) -> dict:
    """The audit's {field: [None, value]} of a created lead (as crm.audit.listener writes it)."""
    out = {key: [None, plain_value(value)] for key, value in values.items()
           if value is not None and key not in _NOT_AUDITED}
    out["import_batch"] = [None, batch_id]
    return out


def _insert_returning_ids(table, values: list[dict]) -> list[int]:
    """Insert many rows and return their ids in order. On PostgreSQL the ids are drawn from the
    sequence first and the rows sent as a plain executemany: an INSERT … VALUES (…), (…) …
    RETURNING of a thousand rows costs psycopg more to parse than the database to run."""
    if db.session.get_bind().dialect.name == "postgresql":
        ids = db.session.execute(
            text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)"),
            {"n": len(values)}).scalars().all()
        for new_id, row in zip(ids, values):
            row["id"] = new_id
        bulk_insert(db.session, table, values)
        return ids
    return db.session.execute(insert(table).returning(table.c.id), values).scalars().all()


# Set only through a stage move (crm.interchange.stages.move), never written as plain fields.
_MOVE_FIELDS = ("stage", "signed_on", "started_on", "lost_reason", "imported_history")


def _update_lead(batch: ImportBatch, user: User, row: CheckedRow) -> bool:
    """Update one stored lead; a stage move goes through the pipeline's rule in a savepoint, so a
    move refused at this point leaves the lead untouched (LeadError reaches the caller)."""
    lead = db.session.get(Lead, row.match.lead_id)
    target = row.values.get("stage")
    if target and target != lead.stage:
        with db.session.begin_nested():
            before = {key: plain_value(getattr(lead, key)) for key in _MOVE_FIELDS}
            before.update(_update_fields(lead, row))
            stages.move(lead, row, user, bool(batch.history))
    else:
        before = _update_fields(lead, row)
    added_contact = contact_rows.add_to_updated(lead, row, batch.id, user)
    if not before and not added_contact:
        return False
    lead.company_key = normalize_company_name(lead.company_name)
    lead.updated_by = user
    db.session.flush()  # bumps the version the undo record keeps
    db.session.add(ImportedLead(batch_id=batch.id, lead_id=lead.id, action="updated",
                                version_after=lead.version, before=before))
    return True


def _update_fields(lead: Lead, row: CheckedRow) -> dict:
    before = {}
    for key in _LEAD_FIELDS + ("source_id",):
        if key in _MOVE_FIELDS:
            continue
        new = row.values["source"].id if key == "source_id" and row.values.get("source") else row.values.get(key)
        if new is None:
            continue  # a blank cell keeps what is stored
        old = getattr(lead, key)
        if plain_value(old) != plain_value(new):
            before[key] = plain_value(old)
            setattr(lead, key, new)
    return before

"""Importing target companies from an .xlsx or .csv 作战表 (the export's columns, or a subset).

Read with the lead import's safe reader (zip-bomb checks, header row search, GB18030 CSV).
Every row is checked first; if any row has an error, nothing is written and every error is
reported with its row number and column. Otherwise all rows go in, in the request's one
transaction. Rows whose company is already an open lead of another unit are errors that name
the unit (towns compete for investors: the office decides before it lists the same firm twice).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.auth.models import Unit, User
from crm.chains import services
from crm.chains.columns import EXPORT_ONLY, TARGET_HEADER_LOOKUP
from crm.chains.models import (INTENT_CHINESE, INTENT_LABELS, PRIORITY_CHINESE, PRIORITY_LABELS, PRIORITY_ORDER,
                               TARGET_STATUS_CHINESE, TARGET_STATUS_LABELS, Chain, ChainNode, Priority, Target,
                               TargetStatus)
from crm.extensions import db
from crm.interchange import parsing
from crm.interchange.columns import header_key
from crm.interchange.readers import FileError, HeaderSpec, open_table
from crm.leads.models import normalize_company_name

MAX_ROWS = 20_000
TARGET_HEADERS = HeaderSpec(TARGET_HEADER_LOOKUP, ignored=EXPORT_ONLY, missing_headers=_l(
    "No known column headers were found in the first rows (e.g. 目标企业名称, 产业链, 产业链环节)."))


@dataclass
class RowProblem:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    unknown_headers: list[str] = field(default_factory=list)


def _choice_lookup(*label_dicts) -> dict[str, str]:
    """Chinese name, English code, or the label in either language → the stored code."""
    lookup = {}
    for labels in label_dicts:
        for key, label in labels.items():
            lookup[header_key(key.value)] = key.value
            lookup[header_key(str(label))] = key.value
    return lookup


class _Lookups:
    def __init__(self):
        self.chains: dict[str, Chain] = {}
        for chain in db.session.scalars(select(Chain)):
            self.chains[header_key(chain.name)] = chain
            self.chains[header_key(chain.code)] = chain
        self.nodes = {(n.chain_id, header_key(n.name)): n for n in db.session.scalars(select(ChainNode))}
        self.units = {header_key(u.name): u for u in db.session.scalars(select(Unit).where(Unit.active))}
        self.officers: dict[tuple[int, str], User] = {}
        for user in db.session.scalars(select(User).where(User.active)):
            self.officers.setdefault((user.unit_id, header_key(user.username)), user)
            if user.full_name:
                self.officers.setdefault((user.unit_id, header_key(user.full_name)), user)
        self.reasons = _choice_lookup(INTENT_CHINESE, INTENT_LABELS)
        self.priorities = _choice_lookup(PRIORITY_CHINESE, PRIORITY_LABELS)
        self.statuses = _choice_lookup(TARGET_STATUS_CHINESE, TARGET_STATUS_LABELS)


def import_targets(stream, filename: str, actor: User) -> ImportResult:
    """Check the whole file, then add every row or none. Raises FileError for a file that
    cannot be read at all."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("upload" + Path(filename).suffix.lower())
        stream.save(str(path)) if hasattr(stream, "save") else path.write_bytes(stream.read())
        table = open_table(path, filename, TARGET_HEADERS)
        result = ImportResult(unknown_headers=table.unknown)
        rows = _check_rows(table, actor, result)
    if result.problems:
        return result
    if not rows:
        raise FileError(_("The file has headers but no rows."))
    for data in rows:
        target = Target(**data)
        target.company_key = normalize_company_name(target.company_name)
        target.priority_rank = PRIORITY_ORDER[Priority(target.priority)]
        db.session.add(target)
    db.session.flush()
    result.imported = len(rows)
    return result


def _check_rows(table, actor: User, result: ImportResult) -> list[dict]:
    lookups = _Lookups()
    header_of = {c.key: c.header for c in table.columns.values()}
    seen: dict[tuple[int, str], int] = {}
    rows = []
    for number, cells in table.rows:
        if len(rows) + len(result.problems) >= MAX_ROWS:
            raise FileError(_("The file has more than %(n)d rows: split it into smaller files.", n=MAX_ROWS))
        raw = {col.key: cells[pos] if pos < len(cells) else None for pos, col in table.columns.items()}
        problems: list[RowProblem] = []

        def problem(key: str, message: str):
            problems.append(RowProblem(number, header_of.get(key, key), message))

        def text(key: str, limit: int) -> str | None:
            value = raw.get(key)
            if parsing.is_blank(value):
                return None
            try:
                return parsing.parse_text(value, limit, one_line=key == "company_name")
            except parsing.CellError as exc:
                problem(key, str(exc))
                return None

        def choice(key: str, lookup: dict, default: str | None, message: str) -> str | None:
            value = raw.get(key)
            if parsing.is_blank(value):
                return default
            code = lookup.get(header_key(str(value)))
            if code is None:
                problem(key, message % {"v": str(value).strip()[:50]})
            return code

        name = text("company_name", 200)
        if not name and not any(p.column == header_of.get("company_name") for p in problems):
            problem("company_name", _("The company name is required."))
        uscc = None
        if not parsing.is_blank(raw.get("uscc")):
            try:
                uscc = parsing.parse_uscc(raw["uscc"])
            except parsing.CellError as exc:
                problem("uscc", str(exc))
        chain = node = None
        chain_text = text("chain", 60)
        if chain_text:
            chain = lookups.chains.get(header_key(chain_text))
            if chain is None:
                problem("chain", _("“%(v)s” is not an industry chain of this county.", v=chain_text))
        else:
            problem("chain", _("The industry chain is required."))
        node_text = text("node", 60)
        if node_text and chain is not None:
            node = lookups.nodes.get((chain.id, header_key(node_text)))
            if node is None:
                problem("node", _("%(chain)s has no node “%(v)s”.", chain=chain.name, v=node_text))
        elif not node_text:
            problem("node", _("The chain node is required."))
        reason = choice("reason", lookups.reasons, None, _("“%(v)s” is not a direction: write 补链, 延链 or 强链."))
        if reason is None and parsing.is_blank(raw.get("reason")):
            reason = node.intent if node is not None and node.intent else None
            if reason is None:
                problem("reason", _("Write 补链, 延链 or 强链."))
        priority = choice("priority", lookups.priorities, Priority.MEDIUM.value,
                          _("“%(v)s” is not a priority: write 高, 中 or 低."))
        status = choice("status", lookups.statuses, TargetStatus.NOT_CONTACTED.value,
                        _("“%(v)s” is not a status: write 未接触, 已接触 or 已放弃."))
        if status == TargetStatus.CONVERTED:
            problem("status", _("A target becomes a lead with the “Convert to lead” button, not by import."))
        unit = None
        unit_text = text("unit", 100)
        if unit_text:
            unit = lookups.units.get(header_key(unit_text))
            if unit is None:
                problem("unit", _("“%(v)s” is not an active unit.", v=unit_text))
            elif not services.can_edit_target_unit(actor, unit.id):
                problem("unit", _("You can import targets for your own unit only (%(unit)s).",
                                  unit=actor.unit.name))
        else:
            problem("unit", _("The responsible unit is required."))
        officer = None
        officer_text = text("officer", 64)
        if officer_text and unit is not None:
            officer = lookups.officers.get((unit.id, header_key(officer_text)))
            if officer is None:
                problem("officer", _("%(v)s is not an active user of %(unit)s.", v=officer_text, unit=unit.name))
        location, note = text("location", 100), text("note", 1000)

        if name and node is not None:
            key = normalize_company_name(name)
            earlier = seen.get((node.id, uscc or key))
            if earlier:
                problem("company_name", _("Row %(row)d lists the same company at this node.", row=earlier))
            else:
                seen[(node.id, uscc or key)] = number
                if services.duplicate_target(node.id, name, uscc) is not None:
                    problem("company_name", _("%(name)s is already a target at %(node)s.", name=name, node=node.name))
            if unit is not None:
                other = services.lead_elsewhere(name, uscc, unit.id)
                if other is not None:
                    problem("company_name", _("%(unit)s already follows this company as a lead.", unit=other.name))
        if problems:
            result.problems.extend(problems)
            continue
        rows.append({"node_id": node.id, "company_name": name, "uscc": uscc, "location": location,
                     "reason": reason, "note": note, "priority": priority, "unit_id": unit.id,
                     "officer_id": officer.id if officer else None, "status": status})
    return rows

"""Turning the rows of an interchange file into checked lead values, and finding duplicates."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from rapidfuzz import fuzz, process
from sqlalchemy import select

from crm import clock
from crm.auth.models import Unit
from crm.chains.models import Chain, ChainNode
from crm.contacts.interchange import check_row_contact, parse_phone
from crm.extensions import db
from crm.interchange import parsing
from crm.interchange.columns import Column
from crm.leads.models import Lead, Source
from crm.leads.names import BLOCK, FUZZY_CUTOFF, close_enough, normalize_company_name
from crm.leads.pipeline import Stage, rank



@dataclass
class CheckedRow:
    number: int
    cells: list
    values: dict = field(default_factory=dict)      # Lead attribute → value (only cells present)
    errors: list[tuple[str, str]] = field(default_factory=list)   # (column header, reason)
    notes: list[str] = field(default_factory=list)
    unit_name: str | None = None
    source_name: str | None = None
    new_chain: str | None = None                    # a chain the file names and nobody has yet
    new_node: tuple[str, str] | None = None         # (chain name, node name), likewise
    match: "Match | None" = None
    company_key: str | None = None                  # normalize_company_name of the company name

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(slots=True)  # one per stored lead and created row: slots keep 200,000 of them small
class Match:
    lead_id: int | None          # None: an earlier row of the same file
    unit_id: int | None
    unit_name: str | None
    row: int | None = None       # the earlier row's number
    version: int | None = None
    stage: str | None = None     # the stored lead's stage and milestone dates (its moves are checked)
    signed_on: date | None = None
    started_on: date | None = None


class DuplicateIndex:
    """Leads already stored, and the rows seen so far: by USCC when both have one, else by name."""

    def __init__(self):
        self.by_uscc: dict[str, Match] = {}
        self.by_key: dict[str, tuple[str | None, Match]] = {}
        self.blocks: dict[str, list[str]] = {}

    @classmethod
    def from_database(cls) -> "DuplicateIndex":
        index = cls()
        stmt = (select(Lead.id, Lead.uscc, Lead.company_key, Lead.owner_unit_id, Unit.name, Lead.version,
                       Lead.stage, Lead.signed_on, Lead.started_on)
                .join(Unit, Unit.id == Lead.owner_unit_id))
        for lead_id, uscc, key, unit_id, unit_name, version, stage, signed_on, started_on in db.session.execute(stmt):
            index.add(uscc, key, Match(lead_id, unit_id, unit_name, version=version, stage=stage,
                                       signed_on=signed_on, started_on=started_on))
        return index

    def add(self, uscc: str | None, key: str, match: Match) -> None:
        if uscc:
            self.by_uscc.setdefault(uscc, match)
        if key and key not in self.by_key:
            self.by_key[key] = (uscc, match)
            self.blocks.setdefault(key[:BLOCK], []).append(key)

    def find(self, uscc: str | None, key: str) -> Match | None:
        if uscc and uscc in self.by_uscc:
            return self.by_uscc[uscc]
        hit = self.by_key.get(key)
        if hit is None and len(key) > BLOCK:
            found = process.extractOne(key, self.blocks.get(key[:BLOCK], ()), scorer=fuzz.ratio,
                                       score_cutoff=FUZZY_CUTOFF)
            # Near-identical names that differ in a number (一厂/二厂, 1号/2号) are different firms.
            if found and close_enough(key, found[0]):
                hit = self.by_key[found[0]]
        if hit is None:
            return None
        other_uscc, match = hit
        if uscc and other_uscc and other_uscc != uscc:
            return None  # both have a code and they differ: two companies
        return match


class Lookups:
    """Chains, nodes, sources and units by name, loaded once per file.

    may_create: the importer may create what the file names and nobody has (team leads and
    administrators); create_missing: this import was asked to (the web preview always asks for
    those who may; the CLI and the API when told). Without both, an unknown chain, node or unit
    is a row error that names it."""

    def __init__(self, may_create: bool = False, create_missing: bool = False):
        self.may_create, self.create_missing = may_create, may_create and create_missing
        self.chains = {}
        for chain in db.session.scalars(select(Chain)):
            self.chains[chain.code.lower()] = chain
            self.chains[chain.name] = chain
        self.nodes = {(n.chain_id, n.name): n for n in db.session.scalars(select(ChainNode))}
        self.nodes_by_name: dict[str, list[ChainNode]] = {}
        for node in self.nodes.values():
            self.nodes_by_name.setdefault(node.name, []).append(node)
        self.sources = {s.name: s for s in db.session.scalars(select(Source))}
        self.units = {u.name: u for u in db.session.scalars(select(Unit))}


NOTE_LIMIT = 5000  # as the lead form's note (crm.leads.forms)
_SIMPLE = {"amount", "area", "int", "percent", "bool", "date", "stage", "source_kind", "uscc"}
_PARSERS = {"area": parsing.parse_area, "int": parsing.parse_int, "percent": parsing.parse_percent,
            "bool": parsing.parse_bool, "date": parsing.parse_date, "stage": parsing.parse_stage,
            "source_kind": parsing.parse_source_kind, "uscc": parsing.parse_uscc, "phone": parse_phone}


def check_row(number: int, cells: list, columns: dict[int, Column], lookups: Lookups) -> CheckedRow:
    return RowReader(columns, lookups).check(number, cells)


# A cell's text is parsed once per column within one file: a parse depends on the text alone
# (and on the day and the language, which one import does not change), and most columns repeat
# (dates, amounts, stages, kinds, yes/no, chains, units, sources). A column that keeps varying
# (names, codes, phones) drops its memo once it holds MEMO_LIMIT texts.
MEMO_LIMIT = 10000


class RowReader:
    """check_row for one file: each column's parser chosen once, and repeated cell texts parsed
    once (see MEMO_LIMIT). The rows it gives are the same as one check_row per row."""

    def __init__(self, columns: dict[int, Column], lookups: Lookups):
        self.lookups = lookups
        self.today = clock.today()
        self.columns = []  # [position, key, header, kind, parser, memo or None] in the file's order
        for pos, column in columns.items():
            key, kind = column.key, column.kind
            if kind == "amount":
                parser = parsing.parse_amount
            elif kind in _PARSERS:
                parser = _PARSERS[kind]
            elif key == "company_name":
                parser = _text_parser(200, one_line=True)
            elif key in ("industry", "chain_node"):
                parser = _text_parser(60)
            elif key == "owner_unit":
                parser = _text_parser(100)
            elif key == "source_name":
                parser = _text_parser(120)
            elif key == "note":
                parser = _text_parser(NOTE_LIMIT)
            else:
                parser = _text_parser(500 if key == "lost_reason" else 200)
            self.columns.append([pos, key, column.header, kind, parser, {}])

    def check(self, number: int, cells: list) -> CheckedRow:
        row = CheckedRow(number=number, cells=cells)
        values, errors = row.values, row.errors
        length = len(cells)
        for column in self.columns:
            pos, key, header, kind, parser, memo = column
            value = cells[pos] if pos < length else None
            if value is None:
                continue
            is_text = type(value) is str
            if is_text and not value.strip():
                continue
            if is_text and memo is not None:
                done = memo.get(value)
                if done is None:
                    try:
                        done = (True, parser(value))
                    except parsing.CellError as exc:
                        done = (False, str(exc))
                    memo[value] = done
                    if len(memo) >= MEMO_LIMIT:
                        column[5] = None
                ok, parsed = done
                if not ok:
                    errors.append((header, parsed))
                    continue
            else:  # a number or date cell, or a column whose texts keep varying
                try:
                    parsed = parser(value)
                except parsing.CellError as exc:
                    errors.append((header, str(exc)))
                    continue
            if kind == "amount":
                amount, approx = parsed
                values[key] = amount
                if approx:
                    row.notes.append(_("%(col)s is approximate (约): imported as %(v)s.", col=header, v=amount))
            elif key == "owner_unit":
                row.unit_name = parsed
            elif key == "source_name":
                row.source_name = parsed
            else:
                values[key] = parsed
        if not values.get("company_name") and not any(h == "企业名称" for h, _m in errors):
            errors.append(("企业名称", _("The company name is required.")))
        _resolve_chain(row, self.lookups)
        _check_dates_and_stage(row, self.today)
        check_row_contact(row)
        return row


def _text_parser(limit: int, one_line: bool = False):
    return lambda value: parsing.parse_text(value, limit, one_line)


def unknown_message(what: str, name: str, lookups: Lookups) -> str:
    """Why an unknown chain, node or unit named in a row is not created (what: its kind, in
    the user's language)."""
    if not lookups.may_create:
        return _("Unknown %(what)s “%(v)s”: only a team lead or administrator can create it.", what=what, v=name)
    return _("Unknown %(what)s “%(v)s”: add it first, or ask the import to create what is missing "
             "(crm import-leads --create-missing; create_missing=1 in the API).", what=what, v=name)


def _resolve_chain(row: CheckedRow, lookups: Lookups) -> None:
    chain_name = row.values.pop("industry", None)
    node_name = row.values.pop("chain_node", None)
    chain = None
    if chain_name:
        chain = lookups.chains.get(chain_name) or lookups.chains.get(chain_name.lower())
        if chain is None:
            if not lookups.create_missing:
                row.errors.append(("产业链", unknown_message(_("industry chain"), chain_name, lookups)))
                return
            row.new_chain = chain_name  # created with the row if it passes (crm.interchange.importer)
            if node_name:
                row.new_node = (chain_name, node_name)
            return
        row.values["chain_id"] = chain.id
    if not node_name:
        return
    if chain is not None:
        node = lookups.nodes.get((chain.id, node_name))
        if node is not None:
            row.values["chain_node_id"] = node.id
        elif lookups.create_missing:
            row.new_node = (chain.name, node_name)
        else:
            row.errors.append(("产业链环节", unknown_message(_("chain node"), f"{chain.name} · {node_name}", lookups)))
        return
    candidates = lookups.nodes_by_name.get(node_name, [])
    if len(candidates) != 1:
        row.errors.append(("产业链环节", _("Unknown chain node “%(v)s” (give the industry chain too).", v=node_name)))
        return
    row.values["chain_node_id"] = candidates[0].id
    row.values["chain_id"] = candidates[0].chain_id


def _check_dates_and_stage(row: CheckedRow, today: date | None = None) -> None:
    v = row.values
    today = today or clock.today()
    for key, header in (("created_on", "录入日期"), ("signed_on", "签约日期"), ("started_on", "开工日期")):
        if v.get(key) and v[key] > today:
            row.errors.append((header, _("The date cannot be in the future.")))
    if v.get("signed_on") and v.get("started_on") and v["started_on"] < v["signed_on"]:
        row.errors.append(("开工日期", _("Construction cannot start before the signing date.")))
    stage = v.get("stage")
    if stage == Stage.LOST.value and not v.get("lost_reason"):
        row.errors.append(("终止原因", _("Give the reason the lead is terminated.")))
    if stage and v.get("started_on") and rank(stage) != -1 and rank(stage) < rank(Stage.STARTED):
        row.errors.append(("阶段", _("A start date is given but the stage is before construction start.")))


def company_identity(row: CheckedRow) -> tuple[str | None, str]:
    if row.company_key is None:  # kept: the insert writes the same key
        row.company_key = normalize_company_name(row.values.get("company_name") or "")
    return row.values.get("uscc"), row.company_key

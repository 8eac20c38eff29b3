"""The lead list page's rows, read as plain rows.

The page shows fifty leads and changes none, so it reads only the columns it shows (Core rows:
no ORM objects, no identity map, no per-row relationship loading), then the names of their
chains, nodes, sources, units and officers with the filters' choices in one small UNION query;
the total is cached while the data stays as it is (crm.leads.counts), and so is the whole page
(crm.leads.page_cache). The API keeps `lead_page`
(ORM objects, which its serializer reads)."""
from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Integer, any_, bindparam, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from crm.auth.models import Unit, User
from crm.auth.roles import Permission
from crm.chains.models import Chain, ChainNode
from crm.extensions import db
from crm.leads import counts, page_cache
from crm.leads.models import Lead, Source, per_mu
from crm.leads.queries import LeadFilters, LeadPage, _cut, _ordered

_COLUMNS = (Lead.id, Lead.company_name, Lead.project_name, Lead.stage, Lead.p_sign, Lead.p_land,
            Lead.score_grade, Lead.score_source, Lead.planned_investment_wan, Lead.fixed_asset_investment_wan,
            Lead.land_area_mu, Lead.expected_tax_wan, Lead.updated_at, Lead.created_on, Lead.chain_id,
            Lead.chain_node_id, Lead.source_id, Lead.owner_unit_id, Lead.owner_id)


class ListRow(NamedTuple):
    """What one row of the list shows (and what its sort's cursor is made of). A named tuple:
    a kept page (crm.leads.page_cache) unpickles in a third of a slotted dataclass's time."""

    id: int
    company_name: str
    project_name: str | None
    stage: str
    p_sign: float | None
    p_land: float | None
    score_grade: str | None
    score_source: str | None
    planned_investment_wan: Decimal | None
    investment_intensity: Decimal | None
    tax_per_mu: Decimal | None
    updated_at: datetime
    created_on: date
    chain_name: str | None
    chain_node_name: str | None
    source_name: str | None
    unit_name: str
    owner_name: str | None


_DISPLAY_NAME = func.coalesce(func.nullif(User.full_name, ""), User.username)  # as User.display_name


class Choice(NamedTuple):
    id: int
    name: str


class Officer(NamedTuple):
    id: int
    display_name: str


class FilterChoices(NamedTuple):
    chains: list[Choice]
    units: list[Choice]
    officers: list[Officer]


def _lookups_statement(postgres: bool, every_unit: bool):
    """One UNION, built once per kind of reader (its compiled form is cached), of
    - the names the rows show: five small id lookups (kinds c, n, s, u, o). On PostgreSQL each list
      of ids is one array parameter (`id = ANY(:c)`): an expanding IN is rendered into new SQL on
      every execution, which costs more than the lookup itself;
    - the filters' choices: the chains by position, and every unit (for who reads all units) or
      the unit's active officers by name, as queries.unit_officers (kinds fc, fu, fo).
    One round trip instead of two."""
    def ids(kind):
        return any_(bindparam(kind, type_=ARRAY(Integer))) if postgres else bindparam(kind, expanding=True)

    names = [select(literal(kind).label("kind"), model.id, name.label("name"), literal(0).label("ord"))
             .where(model.id == ids(kind) if postgres else model.id.in_(ids(kind)))
             for kind, model, name in (("c", Chain, Chain.name), ("n", ChainNode, ChainNode.name),
                                       ("s", Source, Source.name), ("u", Unit, Unit.name), ("o", User, _DISPLAY_NAME))]
    chains = select(literal("fc"), Chain.id, Chain.name, func.row_number().over(order_by=Chain.position))
    if every_unit:
        other = select(literal("fu"), Unit.id, Unit.name, func.row_number().over(order_by=(Unit.kind, Unit.name)))
    else:
        other = (select(literal("fo"), User.id, _DISPLAY_NAME, func.row_number().over(order_by=User.full_name))
                 .where(User.unit_id == bindparam("unit_id"), User.active.is_(True)))
    return union_all(*names, chains, other)


_LOOKUPS = {(postgres, every_unit): _lookups_statement(postgres, every_unit)
            for postgres in (True, False) for every_unit in (True, False)}


def _lookups(user, rows) -> tuple[dict[tuple[str, int], str], FilterChoices]:
    """(kind, id) → name for every chain, node, source, unit and officer the rows name; and the
    filters' choices: units for who reads every unit's leads, the own unit's officers for the
    others."""
    every_unit = user.can(Permission.LEADS_READ_ALL)
    wanted = {"c": {r.chain_id for r in rows}, "n": {r.chain_node_id for r in rows},
              "s": {r.source_id for r in rows}, "u": {r.owner_unit_id for r in rows}, "o": {r.owner_id for r in rows}}
    params = {kind: sorted(ids - {None}) for kind, ids in wanted.items()}
    if not every_unit:
        params["unit_id"] = user.unit_id
    statement = _LOOKUPS[db.session.get_bind().dialect.name == "postgresql", every_unit]
    names, choices = {}, FilterChoices([], [], [])
    lists = {"fc": (choices.chains, Choice), "fu": (choices.units, Choice), "fo": (choices.officers, Officer)}
    for kind, id_, name, _ord in sorted(db.session.execute(statement, params), key=lambda r: (r[0], r[3])):
        if kind in lists:
            target, kind_of = lists[kind]
            target.append(kind_of(id_, name))
        else:
            names[kind, id_] = name
    return names, choices


# What a kept page is made of (crm.leads.page_cache keeps pages of this shape apart from others).
_PAGE_SHAPE = repr((ListRow._fields, Choice._fields, Officer._fields, FilterChoices._fields,
                    tuple(f.name for f in fields(LeadPage))))


def list_page(user, filters: LeadFilters, per_page: int = 50) -> tuple[LeadPage, FilterChoices]:
    """The page's rows and total, and the filters' choices: kept while nothing they show is
    written (crm.leads.page_cache)."""
    return page_cache.cached(user, filters, per_page, lambda: _read_page(user, filters, per_page), _PAGE_SHAPE)


def _read_page(user, filters: LeadFilters, per_page: int) -> tuple[LeadPage, FilterChoices]:
    conds = filters.conditions(user)
    rows, next_cursor = _cut(db.session.execute(_ordered(select(*_COLUMNS).where(*conds), filters, per_page)).all(),
                             filters, per_page)
    names, choices = _lookups(user, rows)
    leads = [ListRow(r.id, r.company_name, r.project_name, r.stage, r.p_sign, r.p_land, r.score_grade, r.score_source,
                     r.planned_investment_wan, per_mu(r.fixed_asset_investment_wan, r.land_area_mu),
                     per_mu(r.expected_tax_wan, r.land_area_mu), r.updated_at, r.created_on,
                     names.get(("c", r.chain_id)), names.get(("n", r.chain_node_id)), names.get(("s", r.source_id)),
                     names.get(("u", r.owner_unit_id), ""), names.get(("o", r.owner_id)))
             for r in rows]
    return LeadPage(leads, counts.total(user, filters, conds), next_cursor), choices

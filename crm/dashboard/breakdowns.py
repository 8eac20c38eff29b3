"""Cockpit section 'by_origin': where the projects come from — by chain, by source kind (乡贤,
商会, …) and by named source — "credit where it is due": which chambers and 乡贤 bring projects
that sign and land.

For the period, per group:
- new leads: leads created in the period (leads.created_on);
- signed: leads that reached 签约 in the period; started (落地): that reached 开工 in the period
  (stage_reached);
- investment landed (亿元): of the leads that started in the period, the agreement's total
  investment, else the lead's planned total investment (unknown amounts count as 0);
- landing rate (落地率, DOMAIN.md): of the leads signed in the period, the share that have
  started construction by today.

Grouped SQL queries count the leads per (chain, source kind, named source) — created in the
period; signed in it and started in it (one pass over stage_reached) — each led by its index;
the rows for a chain, a kind, a source and the total are sums of those groups (a few hundred at
most, never one per lead).
"""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from crm.chains.models import Chain
from crm.dashboard.breakdown_helpers import as_int, link, scope_note, yi
from crm.dashboard.sections import Context, rate
from crm.extensions import db
from crm.leads.models import SOURCE_KIND_LABELS, Lead, Source, SourceKind, StageReached
from crm.leads.pipeline import Stage
from crm.tracking.models import Agreement

TOP_SOURCES = 15
COLUMNS = ("new", "signed", "started", "landed_yi", "landing_rate")
_COUNTS = ("new", "signed", "started", "signed_landed")


class _Sum:
    """The counts of some groups added up (landed in 万元, exact)."""

    def __init__(self):
        self.new = self.signed = self.started = self.signed_landed = 0
        self.landed_wan = Decimal(0)

    def add(self, group) -> "_Sum":
        for key in _COUNTS:
            setattr(self, key, getattr(self, key) + as_int(getattr(group, key)))
        self.landed_wan += Decimal(group.landed_wan or 0)
        return self


def _groups(ctx: Context) -> list:
    """(chain_id, kind, source_id, new, signed, started, landed_wan, signed_landed) per group of
    the leads in scope: two grouped queries, each led by an index (leads created in the period;
    签约 and 开工 days in it), merged per group."""
    p = ctx.period
    key = (Lead.chain_id.label("chain_id"), Lead.source_kind.label("kind"), Lead.source_id.label("source_id"))
    scope = ctx.scope.lead_conditions()
    new = db.session.execute(
        select(*key, func.count().label("n")).where(Lead.created_on.between(p.start, p.end), *scope)
        .group_by(*key)).all()
    # 签约 and 开工 days in the period in one pass over stage_reached (one join to the leads):
    # next_on of a 签约 row is the day the lead reached 开工, the next main-line stage (stage_dates).
    reached = aliased(StageReached, name="sr")
    is_signed, is_started = reached.stage == Stage.SIGNED.value, reached.stage == Stage.STARTED.value
    amount = func.coalesce(Agreement.total_investment_wan, Lead.planned_investment_wan, 0)
    moves = db.session.execute(
        select(*key, func.sum(case((is_signed, 1), else_=0)).label("signed"),
               func.sum(case((and_(is_signed, reached.next_on <= ctx.today), 1), else_=0)).label("landed"),
               func.sum(case((is_started, 1), else_=0)).label("started"),
               func.sum(case((is_started, amount), else_=0)).label("wan"))
        .select_from(reached).join(Lead, Lead.id == reached.lead_id)
        .outerjoin(Agreement, Agreement.lead_id == reached.lead_id)
        .where(reached.stage.in_([Stage.SIGNED.value, Stage.STARTED.value]),
               reached.reached_on.between(p.start, p.end), *scope)
        .group_by(*key)).all()
    merged: dict[tuple, SimpleNamespace] = {}

    def group(row) -> SimpleNamespace:
        k = (row.chain_id, row.kind, row.source_id)
        if k not in merged:
            merged[k] = SimpleNamespace(chain_id=k[0], kind=k[1], source_id=k[2], new=0, signed=0, started=0,
                                        landed_wan=Decimal(0), signed_landed=0)
        return merged[k]

    for row in new:  # group rows, never leads
        group(row).new = as_int(row.n)
    for row in moves:
        g = group(row)
        g.signed, g.signed_landed = as_int(row.signed), as_int(row.landed)
        g.started, g.landed_wan = as_int(row.started), Decimal(row.wan or 0)
    return list(merged.values())


def _sums(groups, key) -> dict:
    out: dict = {}
    for group in groups:  # the groups of the one query above, not leads
        out.setdefault(getattr(group, key), _Sum()).add(group)
    return out


def _figures(total: _Sum | None) -> dict:
    total = total or _Sum()
    return {"new": total.new, "signed": total.signed, "started": total.started, "landed_yi": yi(total.landed_wan),
            "signed_landed": total.signed_landed, "landing_rate": rate(total.signed_landed, total.signed)}


def _urls(ctx: Context, **group) -> dict:
    """The leads behind each figure of a row (`group`: the leads list's filter for the row)."""
    p, today = ctx.period, ctx.today.isoformat()
    base = {**ctx.scope.args(), **group}
    return {
        "new": link("leads.index", reached=Stage.LEAD.value, **p.range_args(), **base),
        "signed": link("leads.index", reached=Stage.SIGNED.value, **p.range_args(), **base),
        "started": link("leads.index", reached=Stage.STARTED.value, **p.range_args(), **base),
        "landed_yi": link("leads.index", reached=Stage.STARTED.value, **p.range_args(), **base),
        "landing_rate": link("leads.index", reached=Stage.SIGNED.value, **p.range_args(),
                             then=Stage.STARTED.value, then_by=today, **base),
    }


def _row(ctx: Context, key: str, label, total: _Sum | None, group: dict | None, how: str, **extra) -> dict:
    """One row: its figures and the link of each (None when the leads list cannot select the group)."""
    urls = _urls(ctx, **group) if group is not None else {c: None for c in COLUMNS}
    return {"key": key, "label": str(label), **_figures(total), "urls": urls, "url": urls["started"], "how": how,
            **extra}


def columns(ctx: Context) -> list[dict]:
    label = ctx.period.label
    note = scope_note(ctx.scope)
    return [
        {"key": "new", "label": pgettext("breakdown", "New leads"), "unit": "",
         "how": " ".join([_("Leads created in %(period)s.", period=label), note])},
        {"key": "signed", "label": _("Signed"), "unit": "",
         "how": " ".join([_("Leads that reached signing (签约) in %(period)s.", period=label), note])},
        {"key": "started", "label": pgettext("breakdown", "Started (landed)"), "unit": "",
         "how": " ".join([_("Leads that started construction (开工, 落地) in %(period)s.", period=label), note])},
        {"key": "landed_yi", "label": pgettext("breakdown", "Investment landed"), "unit": "亿元",
         "how": " ".join([_("Of the leads that started construction in %(period)s: the agreement's total "
                            "investment, else the lead's planned total investment, in 亿元 (unknown amounts "
                            "count as 0).", period=label), note])},
        {"key": "landing_rate", "label": _("Landing rate"), "unit": "%",
         "how": " ".join([_("落地率: of the leads signed in %(period)s, the share that have started construction "
                            "by today (%(today)s); — when none was signed.", period=label,
                            today=ctx.today.isoformat()), note])},
    ]


def _by_chain(ctx: Context, groups) -> list[dict]:
    sums = _sums(groups, "chain_id")
    chains = select(Chain.id, Chain.name).order_by(Chain.position, Chain.id)
    if ctx.scope.chain_id is not None:
        chains = chains.where(Chain.id == ctx.scope.chain_id)
    label = ctx.period.label
    out = [_row(ctx, f"chain-{chain_id}", name, sums.get(chain_id), {"chain_id": chain_id},
                _("Leads of the %(chain)s chain, %(period)s.", chain=name, period=label), chain_id=chain_id)
           for chain_id, name in db.session.execute(chains)]
    if None in sums:
        out.append(_row(ctx, "chain-none", pgettext("breakdown", "No chain recorded"), sums[None], None,
                        _("Leads without an industry chain, %(period)s.", period=label)))
    return out


def _by_kind(ctx: Context, groups) -> list[dict]:
    sums = _sums(groups, "kind")
    label = ctx.period.label
    out = [_row(ctx, f"kind-{kind.value}", SOURCE_KIND_LABELS[kind], sums.get(kind.value),
                {"source_kind": kind.value},
                _("Leads whose source kind is %(kind)s, %(period)s.", kind=SOURCE_KIND_LABELS[kind], period=label),
                source_kind=kind.value)
           for kind in SourceKind]
    if None in sums:
        out.append(_row(ctx, "kind-none", pgettext("breakdown", "Source kind not recorded"), sums[None], None,
                        _("Leads without a source kind, %(period)s.", period=label)))
    return out


def _by_source(ctx: Context, groups) -> tuple[list[dict], int]:
    """The named sources that landed the most investment (top TOP_SOURCES; ties: more started,
    more signed, more new leads, by name), the other named sources summed in one row, and the
    leads without a named source in another. Returns (rows, how many named sources count)."""
    label = ctx.period.label
    sums = _sums(groups, "source_id")
    unnamed = sums.pop(None, None)
    names = {row.id: row for row in db.session.execute(
        select(Source.id, Source.name, Source.kind).where(Source.id.in_(list(sums))))} if sums else {}
    ranked = sorted(sums.items(), key=lambda item: (-item[1].landed_wan, -item[1].started, -item[1].signed,
                                                    -item[1].new, names[item[0]].name))
    out = []
    for source_id, total in ranked[:TOP_SOURCES]:
        source = names[source_id]
        kind = str(SOURCE_KIND_LABELS.get(source.kind, source.kind))
        out.append(_row(ctx, f"source-{source_id}", source.name, total, {"source_id": source_id},
                        _("Leads brought by %(source)s (%(kind)s), %(period)s.", source=source.name, kind=kind,
                          period=label), kind_label=kind, source_id=source_id))
    rest = ranked[TOP_SOURCES:]
    if rest:
        summed = _Sum()
        for _source_id, total in rest:
            summed.add(total)
        out.append(_row(ctx, "source-rest", _("%(n)s other named sources", n=len(rest)), summed, None,
                        _("Leads brought by the named sources not listed above, %(period)s.", period=label)))
    if unnamed is not None:
        out.append(_row(ctx, "source-none", pgettext("breakdown", "No named source"), unnamed, None,
                        _("Leads without a named source, %(period)s.", period=label)))
    return out, len(ranked)


def by_origin(ctx: Context) -> dict:
    groups = _groups(ctx)
    total = _Sum()
    for group in groups:
        total.add(group)
    by_chain = _by_chain(ctx, groups)
    by_kind = _by_kind(ctx, groups)
    by_source, sources = _by_source(ctx, groups)
    label = ctx.period.label
    source_rows = [r for r in by_source if "source_id" in r]
    started, landed = pgettext("breakdown", "Started (landed)"), pgettext("breakdown", "Investment landed")
    return {
        "period": label,
        "scope": scope_note(ctx.scope),
        "how": _("Where the projects of %(period)s come from: by industry chain, by kind of source and by named "
                 "source (the named sources that landed the most investment first).", period=label),
        "columns": columns(ctx),
        "total": _row(ctx, "total", pgettext("breakdown", "Total"), total, {},
                      _("Every lead in scope, %(period)s.", period=label)),
        "by_chain": by_chain,
        "by_kind": by_kind,
        "by_source": by_source,
        "named_sources": sources,
        "top": TOP_SOURCES,
        "charts": {
            "by_kind": {"type": "bar", "categories": [r["label"] for r in by_kind],
                        "series": [{"name": _("Signed"), "data": [r["signed"] for r in by_kind]},
                                   {"name": started, "data": [r["started"] for r in by_kind]}],
                        "links": [r["urls"]["started"] for r in by_kind]},
            "by_source": {"type": "hbar", "categories": [r["label"] for r in source_rows],
                          "series": [{"name": landed, "data": [r["landed_yi"] for r in source_rows]}],
                          "unit": "亿元", "links": [r["url"] for r in source_rows]},
        },
    }

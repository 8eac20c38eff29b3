"""Cockpit section 'targets': the 招商作战表's conversion — targets listed → turned into leads →
signed — per chain and per gap node.

Cumulative to the period's end: targets listed (created) by then; of them, turned into a lead by
then (the later of the listing day and the lead's creation day); of those, whose lead reached
签约 by then. In the period: the same three counted on the days within the period. The
conversion shares (lead rate, signing rate) are of the cumulative counts.

Scope: the chain selects the targets' nodes; the unit selects the targets it is responsible for
(the 作战表's 责任单位). A gap node is a node the chain map does not show covered: no local firm
and no project landed there today (crm.chains.queries.gap_node_condition)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import and_, case, func, select

from crm.chains.models import Chain, ChainNode, Target
from crm.chains.queries import converted_between, gap_node_condition, lead_reached_between, listed_between
from crm.dashboard.breakdown_helpers import as_int, link, scope_note
from crm.dashboard.sections import Context, rate
from crm.extensions import db
from crm.leads.pipeline import Stage

COLUMNS = ("listed", "listed_in_period", "leads", "leads_in_period", "signed", "signed_in_period",
           "lead_rate", "sign_rate")


def _conditions(ctx: Context) -> dict:
    p = ctx.period
    signed = Stage.SIGNED.value
    converted = converted_between(None, p.end)
    return {
        "listed": listed_between(None, p.end),
        "listed_in_period": listed_between(p.start, p.end),
        "leads": converted,
        "leads_in_period": converted_between(p.start, p.end),
        "signed": and_(converted, lead_reached_between(signed, None, p.end)),
        "signed_in_period": and_(converted, lead_reached_between(signed, p.start, p.end)),
    }


def _aggregates(ctx: Context) -> list:
    return [func.sum(case((cond, 1), else_=0)).label(key) for key, cond in _conditions(ctx).items()]


def _scope_where(ctx: Context) -> list:
    conds = []
    if ctx.scope.chain_id is not None:
        conds.append(ChainNode.chain_id == ctx.scope.chain_id)
    if ctx.scope.unit_id is not None:
        conds.append(Target.unit_id == ctx.scope.unit_id)
    return conds


def _link_args(ctx: Context) -> dict:
    p = ctx.period
    start, end = p.start.isoformat(), p.end.isoformat()
    signed = Stage.SIGNED.value
    return {
        "listed": {"listed_to": end},
        "listed_in_period": {"listed_from": start, "listed_to": end},
        "leads": {"converted_to": end},
        "leads_in_period": {"converted_from": start, "converted_to": end},
        "signed": {"converted_to": end, "reached": signed, "reached_to": end},
        "signed_in_period": {"converted_to": end, "reached": signed, "reached_from": start, "reached_to": end},
    }


def _row(ctx: Context, key: str, label: str, row, group: dict, how: str, **extra) -> dict:
    figures = {k: as_int(getattr(row, k, 0)) if row is not None else 0 for k in COLUMNS[:6]}
    figures["lead_rate"] = rate(figures["leads"], figures["listed"])
    figures["sign_rate"] = rate(figures["signed"], figures["leads"])
    base = {"unit": ctx.scope.unit_id, **group}
    urls = {k: link("chains.targets", **base, **args) for k, args in _link_args(ctx).items()}
    urls["lead_rate"], urls["sign_rate"] = urls["leads"], urls["signed"]
    return {"key": key, "label": str(label), **figures, "urls": urls, "url": urls["listed"], "how": how, **extra}


def columns(ctx: Context) -> list[dict]:
    label, end = ctx.period.label, ctx.period.end.isoformat()
    note = scope_note(ctx.scope, unit_means="target")
    cum = _("Cumulative to the end of %(period)s (%(end)s):", period=label, end=end)
    within = _("In %(period)s:", period=label)
    return [
        {"key": "listed", "label": pgettext("breakdown", "Targets listed"), "how": " ".join([cum, _("targets on the list."), note])},
        {"key": "listed_in_period", "label": pgettext("breakdown", "Listed in the period"),
         "how": " ".join([within, _("targets added to the list."), note])},
        {"key": "leads", "label": pgettext("breakdown", "Turned into leads"),
         "how": " ".join([cum, _("targets turned into a lead (the later of the day listed and the lead's "
                                 "creation day)."), note])},
        {"key": "leads_in_period", "label": pgettext("breakdown", "Turned into leads in the period"),
         "how": " ".join([within, _("targets turned into a lead."), note])},
        {"key": "signed", "label": _("Signed"),
         "how": " ".join([cum, _("targets turned into a lead whose lead reached signing (签约)."), note])},
        {"key": "signed_in_period", "label": pgettext("breakdown", "Signed in the period"),
         "how": " ".join([within, _("targets turned into a lead (by the period's end) whose lead reached signing "
                                    "(签约)."), note])},
        {"key": "lead_rate", "label": pgettext("breakdown", "Target to lead"), "unit": "%",
         "how": " ".join([cum, _("turned into leads ÷ targets listed; — when none was listed."), note])},
        {"key": "sign_rate", "label": pgettext("breakdown", "Lead to signing"), "unit": "%",
         "how": " ".join([cum, _("signed ÷ turned into leads; — when none was turned into a lead."), note])},
    ]


def targets(ctx: Context) -> dict:
    cols = _aggregates(ctx)
    scope = _scope_where(ctx)
    label = ctx.period.label
    joined = select(ChainNode.chain_id.label("chain_id"), *cols).select_from(Target) \
        .join(ChainNode, ChainNode.id == Target.node_id).where(*scope)
    per_chain = {r.chain_id: r for r in db.session.execute(joined.group_by(ChainNode.chain_id))}
    chains = select(Chain.id, Chain.name).order_by(Chain.position, Chain.id)
    if ctx.scope.chain_id is not None:
        chains = chains.where(Chain.id == ctx.scope.chain_id)
    by_chain = [_row(ctx, f"chain-{chain_id}", name, per_chain.get(chain_id), {"chain": chain_id},
                     _("Targets of the %(chain)s chain's 作战表.", chain=name), chain_id=chain_id)
                for chain_id, name in db.session.execute(chains)]

    # Gap nodes: their figures (outer join: a gap nobody targets shows zeros).
    target_conds = [Target.unit_id == ctx.scope.unit_id] if ctx.scope.unit_id is not None else []
    gaps = db.session.execute(
        select(ChainNode.id.label("node_id"), ChainNode.name.label("node"), Chain.id.label("chain_id"),
               Chain.name.label("chain"), *cols)
        .select_from(ChainNode).join(Chain, Chain.id == ChainNode.chain_id)
        .outerjoin(Target, and_(Target.node_id == ChainNode.id, *target_conds))
        .where(gap_node_condition(), *([ChainNode.chain_id == ctx.scope.chain_id]
                                        if ctx.scope.chain_id is not None else []))
        .group_by(ChainNode.id, ChainNode.name, Chain.id, Chain.name, Chain.position, ChainNode.position)
        .order_by(Chain.position, Chain.id, ChainNode.position, ChainNode.id)).all()
    by_gap = [_row(ctx, f"node-{g.node_id}", f"{g.chain} · {g.node}", g, {"chain": g.chain_id, "node": g.node_id},
                   _("Targets at the gap node %(node)s of the %(chain)s chain (no local firm, nothing landed "
                     "there as of today).", node=g.node, chain=g.chain), node_id=g.node_id, chain_id=g.chain_id)
              for g in gaps]
    total = db.session.execute(select(*cols).select_from(Target)
                               .join(ChainNode, ChainNode.id == Target.node_id).where(*scope)).one()
    return {
        "period": label,
        "scope": scope_note(ctx.scope, unit_means="target"),
        "how": _("The 作战表's conversion: targets listed, turned into leads, signed — cumulative to the end of "
                 "%(period)s and within it — per chain and per gap node.", period=label),
        "url": link("chains.targets", unit=ctx.scope.unit_id, chain=ctx.scope.chain_id),
        "columns": columns(ctx),
        "total": _row(ctx, "total", pgettext("breakdown", "Total"), total, {"chain": ctx.scope.chain_id}, _("Every target in scope.")),
        "by_chain": by_chain,
        "gap_nodes": by_gap,
        "chart": {"type": "bar", "categories": [r["label"] for r in by_chain],
                  "series": [{"name": str(pgettext("breakdown", "Targets listed")), "data": [r["listed"] for r in by_chain]},
                             {"name": str(pgettext("breakdown", "Turned into leads")), "data": [r["leads"] for r in by_chain]},
                             {"name": str(_("Signed")), "data": [r["signed"] for r in by_chain]}],
                  "links": [r["url"] for r in by_chain]},
    }

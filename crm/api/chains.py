"""Industry chain endpoints: the chains with their nodes and gap figures, the 招商作战表 export."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from crm.api import bp
from crm.api.errors import ApiError
from crm.auth.permissions import require_permission
from crm.auth.roles import Permission
from crm.chains.export import FORMATS, FilterError, export_response, filters_from_args
from crm.chains.models import Chain
from crm.chains.queries import COVERED, chain_gaps, node_figures, ordered_chains
from crm.extensions import db


def node_json(node, fig) -> dict:
    return {"id": node.id, "name": node.name, "tier": node.tier, "tier_label": node.tier_label,
            "position": node.position, "intent": node.intent, "intent_label": node.intent_label if node.intent else None,
            "coverage": fig.coverage if fig else None, "firms": fig.firms if fig else 0,
            "firms_output_wan": fig.firms_output_wan if fig else 0.0,
            "live_leads": fig.live_leads if fig else 0, "signed": fig.signed if fig else 0,
            "landed": fig.landed if fig else 0, "targets": dict(fig.targets) if fig else {},
            "targets_total": fig.targets_total if fig else 0}


def chain_json(gaps, figures) -> dict:
    chain = gaps.chain
    covered = [n for n in chain.nodes if figures.get(n.id) and figures[n.id].coverage == COVERED]
    return {"id": chain.id, "code": chain.code, "name": chain.name, "position": chain.position,
            "description": chain.description,
            "gap_figures": {"nodes": gaps.nodes, "covered": len(covered), "in_progress": len(gaps.in_progress),
                            "gaps": len(gaps.gaps), "gap_nodes": [n.name for n in gaps.gaps],
                            "in_progress_nodes": [n.name for n in gaps.in_progress]},
            "nodes": [node_json(n, figures.get(n.id)) for n in chain.nodes]}


@bp.get("/chains")
@require_permission(Permission.CHAINS_READ)
def api_chains():
    """Every role that reads chains (all but screeners): every chain in map order, with its
    nodes, their figures and the chain's gap figures."""
    chains = ordered_chains()
    figures = node_figures([c.id for c in chains])
    return jsonify({"items": [chain_json(g, figures) for g in chain_gaps(chains, figures)]})


@bp.get("/chains/<int:chain_id>/targets/export")
@require_permission(Permission.CHAINS_READ)
def api_chain_targets_export(chain_id: int):
    """Every role that reads chains (all but screeners), whatever their unit: one chain's
    招商作战表 with every unit's targets; ?format=xlsx|csv and repeatable priority=, unit= (id or
    name), status= filters."""
    chain = db.session.get(Chain, chain_id)
    if chain is None:
        raise ApiError(404, _("No such industry chain."))
    fmt = (request.args.get("format") or "xlsx").strip().lower()
    if fmt not in FORMATS:
        raise ApiError(400, _("Unknown export format “%(format)s”: use xlsx or csv.", format=fmt[:20]))
    try:
        filters = filters_from_args(request.args, chain_id=chain.id)
    except FilterError as exc:
        raise ApiError(400, str(exc)) from None
    return export_response(filters, fmt, f"招商作战表_{chain.name}")

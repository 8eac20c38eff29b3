"""Figures per chain node: local firms, leads in progress, signed and landed projects, targets.

Coverage of a node (the colour on the chain map, the gap list in the 作战表 summary):
- covered: local firms are present, or a project has landed there (construction started);
- in progress: no local firm yet, but open leads (not lost or rejected);
- gap: neither. "Gap figures" count these nodes per chain.
Signed and landed follow the scoring labels (crm.scoring): signed = signed_on set or stage at
or after signed; landed = started_on set or stage at or after started.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, func, or_, select, true

from crm import clock
from crm.chains.models import Chain, ChainNode, LocalEnterprise, Target, TargetStatus
from crm.extensions import db
from crm.leads.models import Lead, StageReached
from crm.leads.pipeline import MAIN_LINE, OPEN_STAGES, Stage

COVERED, IN_PROGRESS, GAP = "covered", "in_progress", "gap"

_SIGNED_STAGES = [s.value for s in MAIN_LINE[MAIN_LINE.index(Stage.SIGNED):]]
_LANDED_STAGES = [s.value for s in MAIN_LINE[MAIN_LINE.index(Stage.STARTED):]]
_OPEN = [s.value for s in OPEN_STAGES]


@dataclass
class NodeFigures:
    node_id: int
    firms: int = 0
    firms_output_wan: float = 0.0
    live_leads: int = 0
    signed: int = 0
    landed: int = 0
    targets: dict[str, int] = field(default_factory=dict)  # by TargetStatus

    @property
    def targets_total(self) -> int:
        return sum(self.targets.values())

    @property
    def targets_open(self) -> int:
        return self.targets.get(TargetStatus.NOT_CONTACTED, 0) + self.targets.get(TargetStatus.CONTACTED, 0)

    @property
    def coverage(self) -> str:
        if self.firms or self.landed:
            return COVERED
        if self.live_leads:
            return IN_PROGRESS
        return GAP


def node_figures(chain_ids: Iterable[int] | None = None) -> dict[int, NodeFigures]:
    """Every node of the given chains (all chains when None), four grouped queries in all."""
    node_stmt = select(ChainNode.id)
    if chain_ids is not None:
        node_stmt = node_stmt.where(ChainNode.chain_id.in_(list(chain_ids)))
    figures = {node_id: NodeFigures(node_id) for node_id in db.session.scalars(node_stmt)}
    if not figures:
        return figures
    ids = list(figures)

    for node_id, count, output in db.session.execute(
            select(LocalEnterprise.node_id, func.count(), func.coalesce(func.sum(LocalEnterprise.output_wan), 0))
            .where(LocalEnterprise.node_id.in_(ids)).group_by(LocalEnterprise.node_id)):
        figures[node_id].firms, figures[node_id].firms_output_wan = count, float(output)

    signed = or_(Lead.signed_on.is_not(None), Lead.stage.in_(_SIGNED_STAGES))
    landed = or_(Lead.started_on.is_not(None), Lead.stage.in_(_LANDED_STAGES))
    lead_rows = db.session.execute(
        select(Lead.chain_node_id,
               func.sum(case((Lead.stage.in_(_OPEN), 1), else_=0)),
               func.sum(case((signed, 1), else_=0)),
               func.sum(case((landed, 1), else_=0)))
        .where(Lead.chain_node_id.in_(ids)).group_by(Lead.chain_node_id))
    for node_id, live, n_signed, n_landed in lead_rows:
        fig = figures[node_id]
        fig.live_leads, fig.signed, fig.landed = int(live or 0), int(n_signed or 0), int(n_landed or 0)

    for node_id, status, count in db.session.execute(
            select(Target.node_id, Target.status, func.count())
            .where(Target.node_id.in_(ids)).group_by(Target.node_id, Target.status)):
        figures[node_id].targets[status] = count
    return figures


@dataclass
class ChainGaps:
    chain: Chain
    nodes: int
    gaps: list[ChainNode]
    in_progress: list[ChainNode]


def chain_gaps(chains: Iterable[Chain], figures: dict[int, NodeFigures]) -> list[ChainGaps]:
    result = []
    for chain in chains:
        gaps = [n for n in chain.nodes if figures.get(n.id) and figures[n.id].coverage == GAP]
        progress = [n for n in chain.nodes if figures.get(n.id) and figures[n.id].coverage == IN_PROGRESS]
        result.append(ChainGaps(chain, len(chain.nodes), gaps, progress))
    return result


def ordered_chains() -> list[Chain]:
    return list(db.session.scalars(select(Chain).order_by(Chain.position, Chain.id)))


def unit_targets(unit_id: int, limit: int = 10) -> tuple[dict[str, int], list[Target]]:
    """A unit's targets by status, and its open ones to act on first (high priority, oldest)."""
    counts = dict(db.session.execute(select(Target.status, func.count()).where(Target.unit_id == unit_id)
                                      .group_by(Target.status)).all())
    first = db.session.scalars(
        select(Target).where(Target.unit_id == unit_id,
                             Target.status.in_([TargetStatus.NOT_CONTACTED.value, TargetStatus.CONTACTED.value]))
        .order_by(Target.priority_rank, Target.updated_at, Target.id).limit(limit)).all()
    return counts, first


def targets_for_lead(lead_id: int) -> list[Target]:
    return list(db.session.scalars(select(Target).where(Target.lead_id == lead_id).order_by(Target.id)))


# --- the 作战表's conversion (the cockpit's targets section and the target list's filters) -------
# A target is listed on the county-local day it was created; it turned into a lead on the later
# of that day and the lead's creation day (converting makes the lead, or links the unit's open
# lead for the company, which may be older); its lead reached a stage on the day stage_reached
# records.

def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.local_zone()).astimezone(timezone.utc)


def listed_between(start: date | None, end: date | None):
    """Targets listed (created) between the two county-local days, inclusive."""
    conds = []
    if start is not None:
        conds.append(Target.created_at >= _local_midnight(start))
    if end is not None:
        conds.append(Target.created_at < _local_midnight(end + timedelta(days=1)))
    return and_(true(), *conds)


def converted_between(start: date | None, end: date | None):
    """Targets turned into a lead between the two days: linked to a lead, the later of the
    listing day and the lead's creation day falling between them."""
    lead = select(Lead.id).where(Lead.id == Target.lead_id)
    conds = [Target.lead_id.is_not(None)]
    if end is not None:
        conds.append(Target.created_at < _local_midnight(end + timedelta(days=1)))
        lead = lead.where(Lead.created_on <= end)
    if start is not None:  # the later of the two days on or after start: one of them is
        lead = lead.where(or_(Lead.created_on >= start, Target.created_at >= _local_midnight(start)))
    return and_(*conds, lead.exists())


def lead_reached_between(stage: str, start: date | None, end: date | None):
    """Targets whose lead reached `stage` between the two days (stage_reached)."""
    sub = select(StageReached.lead_id).where(StageReached.lead_id == Target.lead_id, StageReached.stage == stage)
    if start is not None:
        sub = sub.where(StageReached.reached_on >= start)
    if end is not None:
        sub = sub.where(StageReached.reached_on <= end)
    return and_(Target.lead_id.is_not(None), sub.exists())


def gap_node_condition():
    """Nodes the chain map does not show covered: no local firm and no project landed (started)
    there — its gaps and the nodes with leads still in progress."""
    landed = or_(Lead.started_on.is_not(None), Lead.stage.in_(_LANDED_STAGES))
    return and_(~select(LocalEnterprise.id).where(LocalEnterprise.node_id == ChainNode.id).exists(),
                ~select(Lead.id).where(Lead.chain_node_id == ChainNode.id, landed).exists())

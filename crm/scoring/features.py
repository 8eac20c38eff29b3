"""What the model sees of a lead: plain rows from the database, then a numeric matrix.

Labels (issue 6): signed = `signed_on` set or stage at/after `signed`; not signed = `lost` or
`rejected` without signing. Landed = `started_on` set or stage at/after `started`; not landed =
`lost`/`rejected`. Open leads are censored (no label), not negatives.

Features are taken as of a cutoff, so nothing after the outcome leaks in: the signing date for
signed leads, the date a lead was lost or rejected, else today. Follow-ups, the furthest stage
reached and screening rounds count only before the cutoff. A source's track record is its
smoothed signing rate over the labelled leads recorded before the lead (in training), or over
all labelled leads (when scoring); so are the channel's and the region's within the lead's chain
(crm.scoring.cell_rates).
Intensity and tax per mu are also taken against the chain's screening lines (the units judge
them so), and what the member units' opinions said beyond the verdict (mean rating, share that
approved outright) and how often the lead is followed up (per 30 days of its life) are columns:
the app records them, and they say something of the project's quality and the investor's
engagement, which nothing else stored shows.
Missing values stay missing (NaN): the gradient-boosted trees handle them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from crm import clock
from crm.chains.models import Chain, ChainNode
from crm.extensions import db
from crm.leads.models import Lead, LeadActivity, LeadStageChange
from crm.leads.pipeline import MAIN_LINE, Stage, rank
from crm.scoring.cell_rates import CELL_TRACKS, rates_as_of

SIGNED_RANK = rank(Stage.SIGNED)
STARTED_RANK = rank(Stage.STARTED)
ENDED = (Stage.LOST.value, Stage.REJECTED.value)
SOURCE_PRIOR_WEIGHT = 10  # the smoothing: a source with few labelled leads stays near the county's rate
TOP_REGIONS = 40


@dataclass
class LeadRow:
    id: int
    created_on: date
    cutoff: date
    chain: str | None
    node: str | None
    source_kind: str | None
    source_id: int | None
    origin_region: str | None
    planned: float | None
    fixed: float | None
    land: float | None
    output: float | None
    tax: float | None
    high_tech: bool | None
    specialized: bool | None
    patents: int | None
    rd_ratio: float | None
    jobs: int | None
    activities: int = 0
    last_activity: date | None = None
    stage_reached: int = 0
    screening_result: str | None = None
    screening_rounds: int = 0
    screening_rejects: int = 0
    # Of the member units' opinions before the cutoff: the mean of their 1-5 ratings (None when
    # none rated) and the share that approved outright (None without opinions). What the units
    # think of the project's quality, beyond the verdict.
    screening_rating: float | None = None
    screening_approve_share: float | None = None
    # For training's snapshots during pre-screening (crm.scoring.training.screening_as_of): each
    # round (submitted day, closed day or None, result) in order, and each opinion (day, verdict,
    # sum of its ratings, ratings given), of the rounds submitted before the cutoff.
    screening_log: list = field(default_factory=list, repr=False)
    opinion_log: list = field(default_factory=list, repr=False)
    signed: int | None = None
    landed: int | None = None
    source_rate: float | None = None
    # The signing rates of the leads from the same channel, and from the same region, in the
    # same chain (crm.scoring.cell_rates).
    channel_chain_rate: float | None = None
    region_chain_rate: float | None = None
    chain_id: int | None = None  # for the chain's screening thresholds in the factors
    # The chain's screening thresholds (crm.screening.services.thresholds_for, county-wide rows
    # included): the intensity standard and the low-efficiency tax line the figures are held to.
    min_intensity: float | None = None
    min_tax_per_mu: float | None = None
    # For training's stage snapshots (crm.scoring.training.snapshots): the first day each
    # main-line rank was reached, and the days of the follow-ups counted, before the cutoff.
    stage_days: dict[int, date] = field(default_factory=dict, repr=False)
    activity_days: list[date] = field(default_factory=list, repr=False)
    # The days the lead moved (any stage change, the returns for materials too), before the
    # cutoff: "how long has it sat where it is" (days_since_move).
    move_days: list[date] = field(default_factory=list, repr=False)
    last_move: date | None = None
    # Whether the app recorded how the lead moved up to its cutoff (a move from one stage to
    # another). An imported history has only "recorded as lost/signed" on the import day (or,
    # from the historical ledger import, rows marked as history with the ledger's dates), so
    # how long such a lead sat anywhere is unknown, and days_since_move stays missing. An open
    # lead's is always known: it has sat where it is since its last change (or its recording).
    history_known: bool = True
    # A signed lead's signing day and the day its landing was decided (construction started, or
    # lost after signing; None while it waits): the stay at `signed` the land model sees
    # (at_signed_stage, crm.scoring.training.snapshots).
    signed_day: date | None = None
    land_end: date | None = None
    # A training snapshot's weight (crm.scoring.training.snapshots): the days of the stay it was
    # drawn from, so that leads count as often as they sit open where they are scored.
    weight: float = field(default=1.0, repr=False)

    def label(self, target: str) -> int | None:
        return self.signed if target == "sign" else self.landed


def _f(value):
    """A float, or missing for ∞/NaN (stored before the ranges were enforced): models refuse them."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def load_rows(lead_ids=None, today: date | None = None) -> list[LeadRow]:
    """One LeadRow per lead (all, or these ids), with labels and what was known at the cutoff."""
    today = today or clock.today()
    if db.session.autoflush:
        db.session.flush()  # as session.execute would: the rows below come straight off the connection
    conn = db.session.connection()  # Core rows: no ORM bookkeeping for a few hundred thousand rows
    chain_codes = dict(conn.execute(select(Chain.id, Chain.code)).all())
    node_names = dict(conn.execute(select(ChainNode.id, ChainNode.name)).all())
    t = Lead.__table__.c
    stmt = select(t.id, t.created_on, t.chain_id, t.chain_node_id, t.source_kind, t.source_id, t.origin_region,
                  t.planned_investment_wan, t.fixed_asset_investment_wan, t.land_area_mu, t.expected_output_wan,
                  t.expected_tax_wan, t.high_tech, t.specialized, t.patents, t.rd_ratio, t.jobs, t.stage, t.signed_on,
                  t.started_on)
    ids = list(lead_ids) if lead_ids is not None else None
    rows: dict[int, LeadRow] = {}
    for (lid, created, chain_id, node_id, kind, source_id, region, planned, fixed, land, output, tax, high,
         spec, patents, rd, jobs, stage, signed_on, started_on) in rows_for_ids(stmt, t.id, ids):
        signed, landed = outcomes(stage, signed_on, started_on)
        rows[lid] = LeadRow(
            id=lid, created_on=created, cutoff=signed_on if signed == 1 and signed_on else today,
            chain=chain_codes.get(chain_id), node=node_names.get(node_id), source_kind=kind, source_id=source_id,
            origin_region=region, planned=_f(planned), fixed=_f(fixed), land=_f(land), output=_f(output),
            tax=_f(tax), high_tech=high, specialized=spec, patents=patents, rd_ratio=_f(rd), jobs=jobs,
            signed=signed, landed=landed, chain_id=chain_id, history_known=signed is None and landed is None,
            signed_day=signed_on if signed == 1 else None, land_end=started_on if signed == 1 else None)
    if not rows:
        return []
    _apply_history(rows, ids)
    _apply_activities(rows, ids)
    _apply_screening(rows, ids)
    _apply_thresholds(rows)
    return list(rows.values())


def _apply_thresholds(rows: dict[int, LeadRow]) -> None:
    """Each row's chain thresholds (one lookup per chain): the screening units judge intensity
    and tax per mu against the chain's line, not the county's average, so a ratio to the line
    says what a raw figure only says together with the chain."""
    from crm.screening.services import thresholds_for

    by_chain: dict = {}
    for row in rows.values():
        t = by_chain.get(row.chain_id)
        if t is None:
            found = thresholds_for(row.chain_id, None)
            t = by_chain[row.chain_id] = (_f(found.min_intensity_wan_per_mu), _f(found.min_tax_per_mu_wan))
        row.min_intensity, row.min_tax_per_mu = t


_RANK = {stage.value: i for i, stage in enumerate(MAIN_LINE)}  # pipeline.rank() as a lookup; side exits -1


def outcomes(stage: str, signed_on, started_on) -> tuple[int | None, int | None]:
    """(signed, landed) as the labels define them: 1, 0, or None while open."""
    r = _RANK.get(stage, -1)
    signed = 1 if signed_on is not None or r >= SIGNED_RANK else (0 if stage in ENDED else None)
    landed = 1 if started_on is not None or r >= STARTED_RANK else (0 if stage in ENDED else None)
    return signed, landed


def id_chunks(ids, size=5000):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def rows_for_ids(stmt, column, ids):
    """The statement's rows for these ids (all rows when None), the id first in each row:
    where_ids' queries, without the neighbours a range brings in."""
    conn = db.session.connection()
    wanted = set(ids) if ids is not None else None
    for query in where_ids(stmt, column, ids):
        for row in conn.execute(query):
            if wanted is None or row[0] in wanted:
                yield row


def where_ids(stmt, column, ids):
    """The statement once per slice of the ids: a dense slice (most ids of a span, as when
    scoring everything or a batch) as one range, merged with the next dense slice, a sparse one
    as IN (at most 5,000 ids, under PostgreSQL's parameter limit). Callers drop the
    neighbours a range brings in."""
    if ids is None:
        return [stmt]
    ordered = sorted(set(ids))
    ranges, queries = [], []
    for chunk in id_chunks(ordered):
        if chunk[-1] - chunk[0] < 2 * len(chunk):
            if ranges and chunk[0] - ranges[-1][1] <= len(chunk):
                ranges[-1][1] = chunk[-1]
            else:
                ranges.append([chunk[0], chunk[-1]])
        else:
            queries.append(stmt.where(column.in_(chunk)))
    return [stmt.where(column.between(lo, hi)) for lo, hi in ranges] + queries


def _apply_history(rows: dict[int, LeadRow], ids) -> None:
    """Cutoff for ended leads (the day they ended; signing day for signed ones) and the furthest
    main-line stage reached before it."""
    changes: dict[int, list] = {}
    c = LeadStageChange.__table__.c
    stmt = select(c.lead_id, c.to_stage, c.changed_at, c.from_stage, c.history)
    conn = db.session.connection()
    for query in where_ids(stmt, c.lead_id, ids):
        for lead_id, to_stage, changed_at, from_stage, history in conn.execute(query):
            if lead_id in rows:
                # A historical ledger's rows date the outcomes but are not moves the app saw.
                moved = from_stage is not None and not history
                changes.setdefault(lead_id, []).append((changed_at, to_stage, moved))
    signed_stage = Stage.SIGNED.value
    for lead_id, history in changes.items():
        row = rows[lead_id]
        history.sort()
        days = [(changed_at.date(), to_stage) for changed_at, to_stage, _moved in history]
        signed = row.signed == 1
        for day, to_stage in days:
            if to_stage in ENDED and not signed:
                row.cutoff = min(row.cutoff, day)
            if to_stage == signed_stage and signed:
                row.cutoff = min(row.cutoff, day)
                row.signed_day = min(row.signed_day or day, day)
            if signed and row.land_end is None and row.landed == 0 and to_stage in ENDED:
                row.land_end = day  # lost after signing
        reached = 0
        labelled = row.signed is not None or row.landed is not None
        cutoff = row.cutoff
        if not row.history_known:
            row.history_known = any(moved and changed_at.date() <= cutoff for changed_at, _to, moved in history)
        for day, to_stage in days:
            if day > cutoff or (labelled and day == cutoff):
                continue  # the outcome's own day and after: not known before it
            row.move_days.append(day)
            r = _RANK.get(to_stage, -1)
            if 0 <= r < SIGNED_RANK:
                row.stage_days.setdefault(r, day)
                if r > reached:
                    reached = r
        row.stage_reached = reached
        if row.move_days:
            row.last_move = row.move_days[-1]


def _apply_activities(rows: dict[int, LeadRow], ids) -> None:
    c = LeadActivity.__table__.c
    stmt = select(c.lead_id, c.occurred_on)
    conn = db.session.connection()
    for query in where_ids(stmt, c.lead_id, ids):
        for lead_id, occurred_on in conn.execute(query):
            row = rows.get(lead_id)
            if row is None or occurred_on > row.cutoff:
                continue
            if occurred_on == row.cutoff and (row.signed is not None or row.landed is not None):
                continue  # the outcome's own day (the signing, the closing call): not known before it
            row.activities += 1
            row.activity_days.append(occurred_on)
            if row.last_activity is None or occurred_on > row.last_activity:
                row.last_activity = occurred_on


def _apply_screening(rows: dict[int, LeadRow], ids) -> None:
    from crm.screening.models import ScreeningCase, ScreeningOpinion

    stmt = select(ScreeningCase.id, ScreeningCase.lead_id, ScreeningCase.result, ScreeningCase.closed_at,
                  ScreeningCase.submitted_at).order_by(ScreeningCase.round)
    case_lead: dict[int, int] = {}
    for query in where_ids(stmt, ScreeningCase.lead_id, ids):
        for case_id, lead_id, result, closed_at, submitted_at in db.session.execute(query):
            row = rows.get(lead_id)
            if row is None or submitted_at.date() > row.cutoff:
                continue
            row.screening_rounds += 1
            case_lead[case_id] = lead_id
            row.screening_log.append((submitted_at.date(), closed_at.date() if closed_at else None, result))
            if result and closed_at and closed_at.date() <= row.cutoff:
                row.screening_result = result
    if case_lead:
        o = ScreeningOpinion
        ratings = (o.rating_scale, o.rating_intensity, o.rating_tech, o.rating_prospects, o.rating_compliance)
        stmt = select(o.case_id, o.verdict, o.submitted_at, *ratings)
        # Per lead: [opinions, approvals, sum of ratings, ratings given]
        tally: dict[int, list] = {}
        for query in where_ids(stmt, o.case_id, list(case_lead)):
            for case_id, verdict, submitted_at, *marks in db.session.execute(query):
                lead_id = case_lead.get(case_id)
                if lead_id is None:
                    continue
                if verdict == "reject":
                    rows[lead_id].screening_rejects += 1
                given = [m for m in marks if m is not None]
                if submitted_at is not None:
                    rows[lead_id].opinion_log.append((submitted_at.date(), verdict, sum(given), len(given)))
                if submitted_at is not None and submitted_at.date() > rows[lead_id].cutoff:
                    continue
                t = tally.setdefault(lead_id, [0, 0, 0, 0])
                t[0] += 1
                t[1] += verdict == "approve"
                t[2] += sum(given)
                t[3] += len(given)
        for lead_id, (n, approvals, total, given) in tally.items():
            row = rows[lead_id]
            row.screening_approve_share = approvals / n
            row.screening_rating = total / given if given else None


def _signing_counts():
    """(signed, labelled) as SQL sums, the labels' definitions."""
    from sqlalchemy import case, or_

    is_signed = or_(Lead.signed_on.is_not(None), Lead.stage.in_([s.value for s in MAIN_LINE[SIGNED_RANK:]]))
    return (func.sum(case((is_signed, 1), else_=0)),
            func.sum(case((or_(is_signed, Lead.stage.in_(ENDED)), 1), else_=0)))


def source_totals_from_db(source_ids=None) -> tuple[dict[int, list[int]], float]:
    """{source id: [signed, labelled]} over every lead, counted by the database, and the county's
    signing rate. With `source_ids` (a rescore of a few leads): only those sources, and the
    county's rate from county_rate(), which the worker keeps warm."""
    signed, labelled = _signing_counts()
    stmt = select(Lead.source_id, signed, labelled).group_by(Lead.source_id)
    if source_ids is not None:
        stmt = stmt.where(Lead.source_id.in_(sorted(source_ids)))
    totals, hits_all, n_all = {}, 0, 0
    for source_id, hits, n in db.session.execute(stmt):
        hits_all += hits or 0
        n_all += n or 0
        if source_id is not None:
            totals[source_id] = [int(hits or 0), int(n or 0)]
    if source_ids is not None:
        return totals, county_rate()
    return totals, (hits_all / n_all) if n_all else 0.2


COUNTY_RATE_SECONDS = 600  # how long a warmed county rate serves (it moves slowly: a smoothing prior)
_county_rate: tuple[float, float] | None = None  # (time.monotonic(), rate), set by warm_county_rate


def _county_rate_now() -> float:
    hits, n = db.session.execute(select(*_signing_counts())).one()
    return (hits / n) if n else 0.2


def _warm_rate() -> float | None:
    import time

    if _county_rate is not None and time.monotonic() - _county_rate[0] < COUNTY_RATE_SECONDS:
        return _county_rate[1]
    return None


def county_rate() -> float:
    """The county's signing rate over every labelled lead: the warmed value while fresh (in a
    worker), else counted now."""
    rate = _warm_rate()
    return _county_rate_now() if rate is None else rate


def warm_county_rate() -> float:
    """Count the county's rate when the warmed one is missing or stale (the worker's parent,
    before it forks a job: a rescore then needs only its own source's counts)."""
    import time

    global _county_rate
    if _warm_rate() is None:
        _county_rate = (time.monotonic(), _county_rate_now())
    return _county_rate[1]


def source_rates_as_of(rows: list[LeadRow]) -> None:
    """For training: each lead's source rate from the labelled leads recorded before it (an
    expanding mean). Leaving only the lead's own outcome out is not enough: within one source
    it makes the signed leads' rate lower than the lost ones', which a model learns. The cell
    rates (crm.scoring.cell_rates) are counted the same way, in the same pass."""
    rates_as_of(rows, {"source_rate": (attrgetter("source_id"), SOURCE_PRIOR_WEIGHT), **CELL_TRACKS})


def source_rates(rows: list[LeadRow], totals: dict[int, list[int]], prior: float) -> None:
    """For scoring: each row's source signing rate over every labelled lead, smoothed towards
    the county's (its own outcome left out)."""
    for r in rows:
        if r.source_id is None:
            r.source_rate = None
            continue
        hits, n = totals.get(r.source_id, [0, 0])
        if r.signed is not None:
            hits, n = hits - r.signed, n - 1
        r.source_rate = (max(hits, 0) + prior * SOURCE_PRIOR_WEIGHT) / (max(n, 0) + SOURCE_PRIOR_WEIGHT)


# --- the matrix ------------------------------------------------------------------------------

CATEGORICAL = ("chain", "node", "source_kind", "origin_region", "screening_result")
NUMERIC = ("source_rate", "planned_log", "land", "intensity", "tax_per_mu", "output_per_mu", "high_tech",
           "specialized", "patents", "rd_ratio", "jobs", "activities", "days_since_activity", "stage_reached",
           "screening_rounds", "screening_rejects", "days_since_move", "intensity_ratio", "tax_ratio",
           "activity_rate", "screening_rating", "screening_approve_share", "channel_chain_rate", "region_chain_rate")
COLUMNS = CATEGORICAL + NUMERIC

# Explanations move groups of columns together ("without knowing the tech indicators"): at most
# eight groups, as the exact Shapley values take every one of the 2^groups sets (crm.scoring.shapley).
GROUPS = {
    "scale": ("planned_log", "land", "jobs"),
    "intensity": ("intensity", "tax_per_mu", "output_per_mu", "intensity_ratio", "tax_ratio"),
    "tech": ("high_tech", "specialized", "patents", "rd_ratio"),
    "chain": ("chain", "node"),
    "source": ("source_kind", "source_rate", "origin_region", "channel_chain_rate", "region_chain_rate"),
    "stage": ("stage_reached", "days_since_move"),
    "follow_up": ("activities", "days_since_activity", "activity_rate"),
    "screening": ("screening_result", "screening_rounds", "screening_rejects", "screening_rating",
                  "screening_approve_share"),
}
GROUP_LABELS = {
    "scale": _l("Investment, land and jobs"), "intensity": _l("Per-mu figures"), "tech": _l("Tech content"),
    "chain": _l("Industry chain and node"), "source": _l("Source and investor's region"),
    "stage": _l("Stage and time in it"), "follow_up": _l("Follow-ups"), "screening": _l("Pre-screening"),
}
# The groups of the first explanations (each figure on its own), for scores and importances stored then.
LEGACY_GROUP_LABELS = {
    "chain": _l("Industry chain"), "source": _l("Source"), "region": _l("Investor's region"),
    "scale": _l("Investment scale"), "intensity": _l("Investment intensity"), "tax_per_mu": _l("Tax per mu"),
    "output_per_mu": _l("Output per mu"), "tech": _l("Tech content"), "jobs": _l("Jobs"),
    "follow_up": _l("Follow-ups"), "stage": _l("Stage and time in it"), "screening": _l("Pre-screening"),
}


# The columns of the first models (before days_since_move): a spec saved without its own list.
COLUMNS_V1 = COLUMNS[:COLUMNS.index("days_since_move")]


@dataclass
class FeatureSpec:
    """Vocabularies of the categorical columns, fixed at training and saved with the model, and
    the columns the model was trained on (in order: a model trained before a column was added
    keeps working on the columns it knows)."""

    vocab: dict[str, list[str]] = field(default_factory=dict)
    # Numeric columns almost never filled in the training data: held at 0 (a constant the trees
    # ignore), because a column with no values at all breaks the trees' binning.
    constant: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=lambda: list(COLUMNS))

    @classmethod
    def fit(cls, rows: list[LeadRow]) -> "FeatureSpec":
        vocab = {}
        for name in CATEGORICAL:
            counts: dict[str, int] = {}
            for r in rows:
                value = _raw_category(r, name)
                if value is not None:
                    counts[value] = counts.get(value, 0) + 1
            ordered = sorted(counts, key=lambda v: (-counts[v], v))
            vocab[name] = ordered[:TOP_REGIONS] if name == "origin_region" else ordered[:200]
        spec = cls(vocab)
        numeric = spec.matrix(rows)[:, len(CATEGORICAL):]
        filled = (~np.isnan(numeric)).sum(axis=0)
        spec.constant = [name for name, n in zip(NUMERIC, filled) if n < max(10, 0.05 * len(rows))]
        return spec

    def to_json(self) -> dict:
        return {"vocab": self.vocab, "constant": self.constant, "columns": list(self.columns)}

    @classmethod
    def from_json(cls, data: dict) -> "FeatureSpec":
        columns = [c for c in data.get("columns") or COLUMNS_V1 if c in COLUMNS]
        return cls(dict(data.get("vocab", {})), list(data.get("constant", [])), columns)

    def matrix(self, rows: list[LeadRow], numeric: np.ndarray | None = None) -> np.ndarray:
        """The model's columns for these rows; `numeric`: numeric_block(rows) when already made
        (it does not depend on the spec, so two models' matrices can share it)."""
        out = np.empty((len(rows), len(COLUMNS)))
        for j, name in enumerate(CATEGORICAL):
            index = {v: float(i) for i, v in enumerate(self.vocab.get(name, ()))}
            get = index.get
            out[:, j] = [get(value, math.nan) for value in (getattr(r, name) for r in rows)]
        out[:, len(CATEGORICAL):] = numeric_block(rows) if numeric is None else numeric
        for name in self.constant:
            out[:, COLUMNS.index(name)] = 0.0
        if tuple(self.columns) != COLUMNS:
            out = out[:, [COLUMNS.index(c) for c in self.columns]]
        return out

    def indexes(self, group: str) -> list[int]:
        """Positions in this spec's matrix of a group's columns."""
        return [self.columns.index(c) for c in GROUPS[group] if c in self.columns]

    def categorical_mask(self) -> list[bool]:
        return [c in CATEGORICAL for c in self.columns]


def _raw_category(r: LeadRow, name: str):
    return getattr(r, name)


def _per_mu(amount, land):
    if amount is None or land is None or land <= 0:
        return math.nan
    return amount / land


def days_since_move(r: LeadRow) -> int:
    """Days at the cutoff since the lead last moved (or was recorded)."""
    last = r.last_move if r.last_move is not None and r.last_move > r.created_on else r.created_on
    return max(0, (r.cutoff - last).days)


def at_signed_stage(row: LeadRow, day: date) -> LeadRow:
    """A signed lead as the land model sees it on `day`: at `signed`, sat there since its signing
    (how long a signed lead has waited to start says much about whether it will), with what was
    known at the signing otherwise (follow-ups after it are project services, not counted). A
    lead whose moves were not recorded (an imported history) stays as of its signing."""
    from copy import copy

    if row.signed != 1 or not row.history_known or row.signed_day is None or day < row.signed_day:
        return row
    out = copy(row)
    out.stage_reached, out.cutoff, out.last_move = SIGNED_RANK, day, row.signed_day
    return out


def numeric_block(rows: list[LeadRow]) -> np.ndarray:
    """The NUMERIC columns of every row as one array (computed column-wise)."""
    def col(name):
        return np.array([getattr(r, name) for r in rows], dtype=float)  # None → NaN, bool → 0/1

    n = len(rows)
    out = np.empty((n, len(NUMERIC)))
    land, fixed, tax, output = col("land"), col("fixed"), col("tax"), col("output")
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, 0] = col("source_rate")
        out[:, 1] = [math.log1p(r.planned) if r.planned is not None and r.planned >= 0 else math.nan
                     for r in rows]
        out[:, 2] = land
        has_land = land > 0  # NaN compares False
        safe_land = np.where(has_land, land, 1.0)
        for k, amount in ((3, fixed), (4, tax), (5, output)):
            out[:, k] = np.where(has_land, amount / safe_land, np.nan)
    for k, name in ((6, "high_tech"), (7, "specialized"), (8, "patents"), (9, "rd_ratio"), (10, "jobs")):
        out[:, k] = col(name)
    out[:, 11] = [float(r.activities) for r in rows]
    out[:, 12] = [float((r.cutoff - r.last_activity).days) if r.last_activity else math.nan for r in rows]
    out[:, 13] = [float(r.stage_reached) for r in rows]
    out[:, 14] = [float(r.screening_rounds) for r in rows]
    out[:, 15] = [float(r.screening_rejects) for r in rows]
    out[:, 16] = [float(days_since_move(r)) if r.history_known else math.nan for r in rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, figure, line in ((17, out[:, 3], "min_intensity"), (18, out[:, 4], "min_tax_per_mu")):
            line_values = col(line)
            out[:, k] = np.where(line_values > 0, figure / np.where(line_values > 0, line_values, 1.0), np.nan)
    # Follow-ups per 30 days of the lead's life so far: how engaged the investor and the officer
    # are, which a count alone mixes up with the lead's age.
    out[:, 19] = [30.0 * r.activities / max(1, (r.cutoff - r.created_on).days) for r in rows]
    out[:, 20] = col("screening_rating")
    out[:, 21] = col("screening_approve_share")
    out[:, 22] = col("channel_chain_rate")
    out[:, 23] = col("region_chain_rate")
    return out


__all__ = ["LeadRow", "load_rows", "source_rates", "source_rates_as_of", "source_totals_from_db", "FeatureSpec", "numeric_block", "at_signed_stage", "COLUMNS", "GROUPS", "GROUP_LABELS", "LEGACY_GROUP_LABELS",
           "days_since_move"]

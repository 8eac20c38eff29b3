"""Track records of a lead's kind within its chain: how often leads from the same channel (source
kind) in the same industry chain signed, and leads from the same investor's region in the same
chain. A county learns that chamber leads do well in new materials and poorly in wellness, or
that Xiamen's investors land in equipment but not in food: a fit of channel and chain that
neither the source nor the chain shows alone, and that trees find only in many small splits.

Counted as the source's own rate is (crm.scoring.features.source_rates_as_of / source_rates):
in training, from the labelled leads recorded before the lead; when scoring, from every labelled
lead but the lead itself; smoothed towards the county's rate so a cell with few leads says
little.
"""
from __future__ import annotations

import time
from functools import partial

from sqlalchemy import select

from crm.extensions import db

PRIOR_WEIGHT = 20  # leads: a cell with fewer stays near the county's rate
CELLS = {  # column: the two fields of a lead that make its cell (the chain always the second)
    "channel_chain_rate": ("source_kind", "chain_id"),
    "region_chain_rate": ("origin_region", "chain_id"),
}


def cell_of(row, column: str):
    first, second = (getattr(row, name) for name in CELLS[column])
    return None if first is None or second is None else (first, second)


# A track: (the key a row is counted under in it, or None; the smoothing prior's weight in leads).
CELL_TRACKS = {column: (partial(cell_of, column=column), PRIOR_WEIGHT) for column in CELLS}


def smoothed(hits: int, n: int, prior: float, weight: int = PRIOR_WEIGHT) -> float:
    return (hits + prior * weight) / (n + weight)


def _count(totals: dict[str, dict], tracks: dict, r) -> None:
    """A labelled row's outcome, added under its key in each track."""
    for column, (key_of, _weight) in tracks.items():
        key = key_of(r)
        if key is not None:
            hits, n = totals[column].get(key, (0, 0))
            totals[column][key] = (hits + r.signed, n + 1)


def rates_as_of(rows, tracks: dict = CELL_TRACKS) -> None:
    """For training: each row's rate in each track from the labelled leads recorded before it
    (an expanding mean: a lead's own outcome never counts; features.source_rates_as_of gives
    the source's track and the cells' together)."""
    totals: dict[str, dict] = {column: {} for column in tracks}
    hits_all = n_all = 0
    ordered = sorted(rows, key=lambda r: (r.created_on, r.id))
    i = 0
    while i < len(ordered):
        day = ordered[i].created_on
        same_day = []
        while i < len(ordered) and ordered[i].created_on == day:
            same_day.append(ordered[i])
            i += 1
        prior = hits_all / n_all if n_all else 0.2
        for r in same_day:
            for column, (key_of, weight) in tracks.items():
                key = key_of(r)
                setattr(r, column, None if key is None else smoothed(*totals[column].get(key, (0, 0)), prior, weight))
        for r in same_day:  # known from the next day on
            if r.signed is not None:
                hits_all += r.signed
                n_all += 1
                _count(totals, tracks, r)


def cell_rates(rows, totals: dict[str, dict], prior: float, own_counted: bool = True) -> None:
    """For scoring: each row's cell rates over every labelled lead, its own outcome left out
    (`own_counted`: the totals count the rows' own outcomes; else they are other leads')."""
    for r in rows:
        for column in CELLS:
            cell = cell_of(r, column)
            if cell is None:
                setattr(r, column, None)
                continue
            hits, n = totals[column].get(cell, (0, 0))
            if own_counted and r.signed is not None:
                hits, n = hits - r.signed, n - 1
            setattr(r, column, smoothed(max(hits, 0), max(n, 0), prior))


def cell_totals(rows) -> tuple[dict[str, dict], float]:
    """{column: {cell: (signed, labelled)}} over these rows, and their signing rate."""
    totals: dict[str, dict] = {column: {} for column in CELLS}
    labelled = [r for r in rows if r.signed is not None]
    for r in labelled:
        _count(totals, CELL_TRACKS, r)
    hits_all, n_all = sum(r.signed for r in labelled), len(labelled)
    return totals, (hits_all / n_all) if n_all else 0.2


WARM_SECONDS = 600  # how long warmed totals serve a rescore (they move slowly: hundreds of leads a cell)
_warm: tuple[float, dict] | None = None  # (time.monotonic(), totals), set by warm_cell_totals


def warm_cell_totals() -> None:
    """Count every cell when the warmed totals are missing or stale (the worker's parent, before
    it forks a job, as warm_county_rate): a rescore then counts nothing."""
    global _warm
    if _warmed() is None:
        _warm = (time.monotonic(), cell_totals_from_db())


def _warmed() -> dict | None:
    if _warm is not None and time.monotonic() - _warm[0] < WARM_SECONDS:
        return _warm[1]
    return None


def rescore_totals(chain_ids) -> dict[str, dict]:
    """The totals a rescore of a few leads needs: the warmed ones while fresh (in a worker),
    else those of their chains counted now."""
    warmed = _warmed()
    return cell_totals_from_db(chain_ids) if warmed is None else warmed


def cell_totals_from_db(chain_ids=None) -> dict[str, dict]:
    """{column: {cell: (signed, labelled)}} over every lead, counted by the database; with
    `chain_ids` (a rescore of a few leads) only the cells of those chains."""
    from crm.leads.models import Lead
    from crm.scoring.features import _signing_counts

    signed, labelled = _signing_counts()
    fields = {"source_kind": Lead.source_kind, "origin_region": Lead.origin_region, "chain_id": Lead.chain_id}
    totals: dict[str, dict] = {}
    for column, names in CELLS.items():
        first, second = (fields[name] for name in names)
        stmt = (select(first, second, signed, labelled).where(first.is_not(None), second.is_not(None))
                .group_by(first, second))
        if chain_ids is not None:
            stmt = stmt.where(Lead.chain_id.in_(sorted(chain_ids)))
        totals[column] = {(a, b): (int(hits or 0), int(n or 0)) for a, b, hits, n in db.session.execute(stmt)}
    return totals

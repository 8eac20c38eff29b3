"""Scoring leads: the active models (or the rule-based prior), grades, and the factors.

Factors: for each group of features (features.GROUPS) the score is computed again as if that
group were unknown; the difference is the group's contribution in points (1 point = 1%).
The largest ups and downs are kept, in plain words with the lead's values. With too little
history (no active model) the prior below is used and labelled as such.

The prior (transparent, from the screening thresholds): sign = 20% + 10 points per indicator
that meets its threshold − 10 per indicator below it, + 5 points per stage reached beyond
negotiation, within 2%..95%; land = 60% of sign.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import insert, select, update

from crm import clock
from crm.extensions import db
from crm.leads.models import Lead
from crm.scoring import features as F
from crm.scoring.models import LeadScore, Target

DEFAULT_CUTOFFS = {"A": 0.6, "B": 0.35, "C": 0.15}  # p_sign at least this → grade; else D
TOP_FACTORS = 3


def grade_for(p_sign: float, cutoffs: dict | None = None) -> str:
    cutoffs = cutoffs or current_cutoffs()
    for grade in ("A", "B", "C"):
        if p_sign >= cutoffs[grade]:
            return grade
    return "D"


def current_cutoffs() -> dict:
    from crm.scoring.settings import get_cutoffs

    return get_cutoffs()


@dataclass
class Scored:
    lead_id: int
    p_sign: float
    p_land: float
    source: str
    model_version: str
    factors: dict


# --- words for the factors ---------------------------------------------------------------------

def _fmt(value, places=0) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def describe(group: str, row: F.LeadRow, thresholds) -> str:
    """The group's name with this lead's values, e.g. "投资强度 420 万元/亩（标准 300）"."""
    label = str(F.GROUP_LABELS[group])
    per_mu = lambda a: None if a is None or not row.land else a / row.land  # noqa: E731
    if group == "intensity":
        value, threshold = per_mu(row.fixed), thresholds.min_intensity_wan_per_mu
        return _with_threshold(label, value, _("10k yuan/mu"), threshold)
    if group == "tax_per_mu":
        return _with_threshold(label, per_mu(row.tax), _("10k yuan/mu"), thresholds.min_tax_per_mu_wan)
    if group == "output_per_mu":
        return _with_threshold(label, per_mu(row.output), _("10k yuan/mu"), thresholds.min_output_per_mu_wan)
    if group == "scale":
        unit = _("10k yuan")
        return f"{label} {_fmt(row.planned)} {unit}"
    if group == "chain":
        return f"{label} {row.chain or '—'}{(' · ' + row.node) if row.node else ''}"
    if group == "source":
        rate = "—" if row.source_rate is None else f"{row.source_rate * 100:.0f}%"
        return _("%(label)s (signing rate of the source %(rate)s)", label=label, rate=rate)
    if group == "region":
        return f"{label} {row.origin_region or '—'}"
    if group == "tech":
        parts = []
        if row.high_tech:
            parts.append(_("high-tech"))
        if row.specialized:
            parts.append(_("specialised"))
        if row.patents is not None:
            parts.append(_("%(n)s patents", n=row.patents))
        if row.rd_ratio is not None:
            parts.append(_("R&D %(r)s%%", r=_fmt(row.rd_ratio, 1)))
        return f"{label} {'、'.join(parts) or '—'}"
    if group == "jobs":
        return f"{label} {_fmt(row.jobs)}"
    if group == "follow_up":
        return _("%(label)s: %(n)s", label=label, n=row.activities)
    if group == "stage":
        from crm.leads.pipeline import MAIN_LINE, stage_label

        return f"{label} {stage_label(MAIN_LINE[row.stage_reached])}"
    if group == "screening":
        from crm.screening.models import RESULT_LABELS

        result = str(RESULT_LABELS.get(row.screening_result, "—")) if row.screening_result else "—"
        return f"{label} {result}"
    return label


def _with_threshold(label, value, unit, threshold) -> str:
    if value is None:
        return f"{label} —"
    text = f"{label} {_fmt(value, 1)} {unit}"
    if threshold is not None:
        word = _("above") if value >= float(threshold) else _("below")
        text += _(" (%(word)s the %(t)s threshold)", word=word, t=_fmt(float(threshold), 1))
    return text


def _factor_list(contribs: dict[str, float], row: F.LeadRow, thresholds) -> list[dict]:
    ranked = sorted(contribs.items(), key=lambda kv: -abs(kv[1]))
    ups = [(g, c) for g, c in ranked if c >= 0.5][:TOP_FACTORS]
    downs = [(g, c) for g, c in ranked if c <= -0.5][:TOP_FACTORS]
    points = _("points")
    return [{"group": g, "points": round(c, 1), "text": f"{describe(g, row, thresholds)}: {c:+.0f} {points}"}
            for g, c in ups + downs]


# --- the prior ---------------------------------------------------------------------------------

def prior_scores(rows: list[F.LeadRow]) -> list[Scored]:
    from crm.screening import services as screening
    from crm.screening.indicators import FAIL, PASS, compute

    leads = {lead.id: lead for lead in db.session.scalars(select(Lead).where(Lead.id.in_([r.id for r in rows])))}
    meets, below = _("meets the threshold"), _("below the threshold")
    out = []
    for row in rows:
        lead = leads[row.id]
        thresholds = screening.thresholds_for(lead.chain_id, None)
        factors, points = [], 20.0
        for indicator in compute(lead, thresholds):
            if indicator.status == PASS:
                points += 10
                factors.append({"group": indicator.key, "points": 10.0,
                                "text": f"{indicator.label} {_fmt(indicator.value, 1)}: +10 ({meets})"})
            elif indicator.status == FAIL:
                points -= 10
                factors.append({"group": indicator.key, "points": -10.0,
                                "text": f"{indicator.label} {_fmt(indicator.value, 1)}: -10 ({below})"})
        beyond = max(0, row.stage_reached - 1)
        if beyond:
            points += 5 * beyond
            factors.append({"group": "stage", "points": 5.0 * beyond,
                            "text": f"{describe('stage', row, thresholds)}: +{5 * beyond}"})
        p_sign = min(0.95, max(0.02, points / 100))
        out.append(Scored(row.id, p_sign, p_sign * 0.6, "prior", "prior",
                          {"sign": factors, "land": factors}))
    return out


# --- the model ---------------------------------------------------------------------------------

def model_scores(rows: list[F.LeadRow], spec: F.FeatureSpec, model, explain: bool = True):
    """Probabilities, and per-group contributions in points (None without explain)."""
    X = spec.matrix(rows)
    p = model.predict_proba(X)[:, 1]
    if not explain:
        return p, None
    contribs = {}
    for group in F.GROUPS:
        X2 = X.copy()
        X2[:, F.column_indexes(group)] = np.nan
        contribs[group] = (p - model.predict_proba(X2)[:, 1]) * 100
    return p, contribs


def compute_scores(lead_ids, explain: bool = True) -> list[Scored]:
    from crm.scoring.registry import usable_active
    from crm.screening import services as screening

    rows = F.load_rows(lead_ids, today=clock.today())
    if not rows:
        return []
    F.source_rates(rows, *F.source_totals_from_db())
    sign, land = usable_active(Target.SIGN), usable_active(Target.LAND)
    if sign is None:
        return prior_scores(rows)
    chain_of = {r.id: r.chain_id for r in rows}
    thresholds_cache: dict = {}

    def thresholds(lead_id):
        chain_id = chain_of.get(lead_id)
        if chain_id not in thresholds_cache:
            thresholds_cache[chain_id] = screening.thresholds_for(chain_id, None)
        return thresholds_cache[chain_id]

    p_sign, c_sign = model_scores(rows, sign[2], sign[1], explain)
    if land is not None:
        p_land, c_land = model_scores(rows, land[2], land[1], explain)
        version = f"{sign[0].label}/{land[0].label}"
    else:
        p_land, c_land = p_sign * 0.6, None
        version = f"{sign[0].label}/prior"
    out = []
    for i, row in enumerate(rows):
        factors = {}
        if explain:
            t = thresholds(row.id)
            factors["sign"] = _factor_list({g: float(c[i]) for g, c in c_sign.items()}, row, t)
            factors["land"] = (_factor_list({g: float(c[i]) for g, c in c_land.items()}, row, t)
                               if c_land is not None else [])
        # p_land is unconditional, so it cannot exceed the chance of signing.
        out.append(Scored(row.id, float(p_sign[i]), float(min(p_land[i], p_sign[i])), "model", version, factors))
    return out


def store(scored: list[Scored]) -> int:
    """Write the scores: the history rows and the lead's latest columns (bulk)."""
    if not scored:
        return 0
    now = clock.now()
    cutoffs = current_cutoffs()
    history, latest = [], []
    for s in scored:
        grade = grade_for(s.p_sign, cutoffs)
        history.append({"lead_id": s.lead_id, "p_sign": round(s.p_sign, 4), "p_land": round(s.p_land, 4),
                        "grade": grade, "source": s.source, "model_version": s.model_version,
                        "factors": s.factors, "scored_at": now})
        latest.append({"b_id": s.lead_id, "p_sign": round(s.p_sign, 4), "p_land": round(s.p_land, 4),
                       "score_grade": grade, "score_source": s.source, "score_model_version": s.model_version,
                       "scored_at": now})
    for start in range(0, len(history), 5000):
        db.session.execute(insert(LeadScore), history[start:start + 5000])
    from sqlalchemy import bindparam

    # Core UPDATE: scores are not an edit of the lead (no version bump, no audit entry).
    stmt = (update(Lead.__table__).where(Lead.__table__.c.id == bindparam("b_id"))
            .values(p_sign=bindparam("p_sign"), p_land=bindparam("p_land"), score_grade=bindparam("score_grade"),
                    score_source=bindparam("score_source"), score_model_version=bindparam("score_model_version"),
                    scored_at=bindparam("scored_at"), score_pending=False))
    for start in range(0, len(latest), 5000):
        db.session.execute(stmt, latest[start:start + 5000])
    db.session.info["flushed"] = True
    return len(scored)


def score_leads(lead_ids, explain: bool = True) -> int:
    return store(compute_scores(lead_ids, explain))

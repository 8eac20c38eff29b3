"""The figures member units judge, computed from the lead and compared with the thresholds.

Each indicator is pass / fail / unknown. Unknown means an input or the threshold is missing:
a missing figure is never taken as zero.

Tech score (0–100), from what the investor declares:
  高新技术企业 (high-tech enterprise) 30 · 专精特新 (specialised and innovative) 25 ·
  patents 2 points each, at most 20 · R&D share of revenue 5 points per percent, at most 25.
A missing part scores nothing, so the score is a floor: it passes once it reaches the
threshold even with parts missing, and is unknown (not fail) while a missing part could still
lift it over.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
STATUS_LABELS = {PASS: _l("Meets"), FAIL: _l("Below"), UNKNOWN: _l("Unknown")}

TECH_POINTS = {"high_tech": 30, "specialized": 25, "patent": 2, "patent_max": 20,
               "rd_per_percent": 5, "rd_max": 25}


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    value: Decimal | int | None
    unit: str
    threshold: Decimal | int | None
    status: str
    note: str = ""

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])


@dataclass(frozen=True)
class Thresholds:
    min_total_investment_wan: Decimal | None = None
    min_intensity_wan_per_mu: Decimal | None = None
    min_tax_per_mu_wan: Decimal | None = Decimal(5)
    min_output_per_mu_wan: Decimal | None = None
    min_tech_score: int | None = None
    sources: tuple[str, ...] = ()  # which settings rows the figures came from (shown on the case)


def tech_score(lead) -> tuple[int | None, bool]:
    """(score of the known parts, whether every part is known); (None, False) if none is known."""
    parts = []
    if lead.high_tech is not None:
        parts.append(TECH_POINTS["high_tech"] if lead.high_tech else 0)
    if lead.specialized is not None:
        parts.append(TECH_POINTS["specialized"] if lead.specialized else 0)
    if lead.patents is not None:
        parts.append(min(lead.patents * TECH_POINTS["patent"], TECH_POINTS["patent_max"]))
    if lead.rd_ratio is not None and Decimal(lead.rd_ratio).is_finite():
        parts.append(min(int(Decimal(lead.rd_ratio) * TECH_POINTS["rd_per_percent"]), TECH_POINTS["rd_max"]))
    if not parts:
        return None, False
    return sum(parts), len(parts) == 4


def _compare(value, threshold) -> str:
    if value is None or threshold is None or not Decimal(value).is_finite():
        return UNKNOWN  # ∞ or NaN stored before the ranges were enforced: unknown, not a crash
    return PASS if Decimal(value) >= Decimal(threshold) else FAIL


def _note(value, threshold) -> str:
    if value is None:
        return str(_l("Input missing"))
    if threshold is None:
        return str(_l("No threshold set"))
    return ""


def compute(lead, thresholds: Thresholds) -> list[Indicator]:
    rows = []
    for key, label, value, unit, threshold in (
        ("total_investment", _l("Total investment"), lead.planned_investment_wan, _l("10k yuan"),
         thresholds.min_total_investment_wan),
        ("intensity", _l("Investment intensity"), lead.investment_intensity, _l("10k yuan/mu"),
         thresholds.min_intensity_wan_per_mu),
        ("tax_per_mu", _l("Tax per mu"), lead.tax_per_mu, _l("10k yuan/mu"), thresholds.min_tax_per_mu_wan),
        ("output_per_mu", _l("Output per mu"), lead.output_per_mu, _l("10k yuan/mu"),
         thresholds.min_output_per_mu_wan),
    ):
        rows.append(Indicator(key, str(label), value, str(unit), threshold, _compare(value, threshold),
                              _note(value, threshold)))
    score, complete = tech_score(lead)
    threshold = thresholds.min_tech_score
    if score is None or threshold is None:
        status = UNKNOWN
    elif score >= threshold:
        status = PASS
    else:
        status = FAIL if complete else UNKNOWN
    note = _note(score, threshold)
    if score is not None and not complete:
        note = str(_l("Some tech inputs missing; the score counts only the known ones"))
    rows.append(Indicator("tech_score", str(_l("Tech score")), score, str(_l("points")), threshold, status, note))
    return rows

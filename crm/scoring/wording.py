"""A score's factors in words, in the reader's language, from the figures stored with the score.

Stored factors (crm.scoring.scoring.compute_scores):

    {"method": "shapley" | "prior",
     "base": {"sign": 0.234, "land": 0.118},          # the chance with nothing known about the lead
     "sign": [{"group", "points"}, …], "land": […],   # percentage points; base + points = the chance
     "values": {the lead's figures behind the groups}, "reference": {the county's medians}}

Scores stored before the factors added up (no "method") are worded as they were then, as
"points" (the score minus the score with that group unknown), see `_legacy_lines`.

The rule for every line: its words agree with its sign. A figure below its standard (or a
lacking tech mark) never shows as a gain without saying why, and a figure above it never
shows as a loss without saying why: the why is the county's median of that figure where it
explains the sign (the base is the county's typical lead), otherwise what the model learned
from the county's past leads.
"""
from __future__ import annotations

import math

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

THRESHOLD_FIGURES = (  # (value key, label, unit) of the per-mu group, each against its standard
    ("intensity", _l("Investment intensity"), "mu"),
    ("tax_per_mu", _l("Tax per mu"), "mu"),
    ("output_per_mu", _l("Output per mu"), "mu"),
)
PRIOR_LABELS = {"total_investment": _l("Total investment"), "intensity": _l("Investment intensity"),
                "tax_per_mu": _l("Tax per mu"), "output_per_mu": _l("Output per mu"),
                "tech_score": _l("Tech score")}
EXTRA_LABELS = {"cap": _l("Not above the chance of signing"), "clip": _l("Kept within 2%–95%")}


def fmt(value, places=1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def points_text(tenths: int) -> str:
    """+2.1 / -0.4 / 0.0 percentage points (the shown figure, in tenths)."""
    value = tenths / 10
    sign = "+" if tenths > 0 else ("-" if tenths < 0 else "")
    return _("%(value)s percentage points", value=f"{sign}{abs(value):.1f}")


def group_label(group: str) -> str:
    from crm.scoring.features import GROUP_LABELS

    label = GROUP_LABELS.get(group) or PRIOR_LABELS.get(group) or EXTRA_LABELS.get(group) or group
    return str(label)


def _unit(kind: str) -> str:
    return _("10k yuan/mu") if kind == "mu" else _("10k yuan")


def _outcome_word(target: str) -> str:
    return _("signed") if target == "sign" else _("started construction")


def _against_standard(value: float, threshold: float | None, median: float | None, sign: int, target: str) -> str:
    """The bracket after a figure with a standard: above or below it, and why when the sign of
    the factor goes the other way."""
    if threshold is None:
        if median is None:
            return ""
        return _(" (county median %(m)s)", m=fmt(median))
    above = value >= threshold
    t = fmt(threshold)
    if above and sign < 0:
        if median is not None and value < median:
            return _(" (above the %(t)s standard, but below the county median %(m)s)", t=t, m=fmt(median))
        return _(" (above the %(t)s standard, but leads like this %(outcome)s less often than the base in the "
                 "county's past leads)", t=t, outcome=_outcome_word(target))
    if not above and sign > 0:
        if median is not None and value > median:
            return _(" (below the %(t)s standard, but above the county median %(m)s)", t=t, m=fmt(median))
        return _(" (below the %(t)s standard, but leads like this %(outcome)s more often than the base in the "
                 "county's past leads)", t=t, outcome=_outcome_word(target))
    return _(" (above the %(t)s standard)", t=t) if above else _(" (below the %(t)s standard)", t=t)


def describe(group: str, values: dict, reference: dict, sign: int, target: str = "sign") -> str:
    """What a group is about, with the lead's figures, worded to agree with the sign (-1, 0, 1)."""
    v = values.get
    label = group_label(group)
    parts: list[str] = []
    if group == "scale":
        if v("planned") is not None:
            parts.append(_("planned investment %(x)s %(unit)s", x=fmt(v("planned"), 0), unit=_unit("wan")))
        if v("land") is not None:
            parts.append(_("land %(x)s mu", x=fmt(v("land"))))
        if v("jobs") is not None:
            parts.append(_("%(n)s jobs", n=v("jobs")))
    elif group == "intensity":
        for key, name, unit in THRESHOLD_FIGURES:
            value = v(key)
            if value is None:
                continue
            parts.append(f"{name} {fmt(value)} {_unit(unit)}"
                         + _against_standard(value, v(f"{key}_threshold"), reference.get(key), sign, target))
    elif group == "tech":
        good = False
        for key, yes, no in (("high_tech", _("high-tech enterprise"), _("not a high-tech enterprise")),
                             ("specialized", _("specialised and innovative"), _("not specialised and innovative"))):
            if v(key) is not None:
                parts.append(yes if v(key) else no)
                good = good or bool(v(key))
        if v("patents") is not None:
            parts.append(_("%(n)s patents", n=v("patents")))
            good = good or (v("patents") or 0) > (reference.get("patents") or 0)
        if v("rd_ratio") is not None:
            parts.append(_("R&D %(r)s%% of revenue", r=fmt(v("rd_ratio"))))
        text = "、".join(parts) if parts else _("not known")
        if parts and good and sign < 0:
            text += _(" (but leads like this %(outcome)s less often than the base in the county's past leads)",
                      outcome=_outcome_word(target))
        elif parts and not good and sign > 0:
            text += _(" (none of the marks, but leads like this %(outcome)s more often than the base in the "
                      "county's past leads)", outcome=_outcome_word(target))
        return _("%(label)s: %(what)s", label=label, what=text)
    elif group == "chain":
        if v("chain"):
            parts.append(v("chain") + (f" · {v('node')}" if v("node") else ""))
    elif group == "source":
        if v("source"):
            kind = v("source_kind_label")
            rate = v("source_rate")
            extra = [kind] if kind else []
            if rate is not None:
                extra.append(_("its signing rate %(r)s%%", r=fmt(rate * 100, 0)))
            parts.append(v("source") + (f"（{'，'.join(extra)}）" if extra else ""))
        elif v("source_kind_label"):
            parts.append(v("source_kind_label"))
        if v("region"):
            parts.append(_("investor from %(region)s", region=v("region")))
        # The channel's and the region's record in this chain (crm.scoring.cell_rates).
        if v("channel_chain_rate") is not None and v("source_kind_label"):
            parts.append(_("%(kind)s leads in this chain signed %(r)s%%", kind=v("source_kind_label"),
                           r=fmt(v("channel_chain_rate") * 100, 0)))
        if v("region_chain_rate") is not None and v("region"):
            parts.append(_("its investors in this chain signed %(r)s%%", r=fmt(v("region_chain_rate") * 100, 0)))
    elif group == "stage":
        from crm.leads.pipeline import stage_label

        if v("stage"):
            text = stage_label(v("stage"))
            if v("days_in_stage") is not None:
                text += _(", %(n)s days without moving", n=v("days_in_stage"))
            parts.append(text)
    elif group == "follow_up":
        text = _("%(n)s follow-ups", n=v("activities") or 0)
        if v("days_since_activity") is not None:
            text += _(", the last %(n)s days ago", n=v("days_since_activity"))
        parts.append(text)
    elif group == "screening":
        from crm.screening.models import RESULT_LABELS

        result = v("screening_result")
        if result:
            text = str(RESULT_LABELS.get(result, result))
            details = []
            if v("screening_rounds"):
                details.append(_("%(n)s rounds", n=v("screening_rounds")))
            if v("screening_rejects"):
                details.append(_("%(n)s opinions against", n=v("screening_rejects")))
            parts.append(text + (f"（{'，'.join(details)}）" if details else ""))
        elif v("screening_rounds"):
            parts.append(_("under way (%(n)s rounds)", n=v("screening_rounds")))
        else:
            parts.append(_("not screened yet"))
    elif group == "cap":
        return _("Not above the chance of signing (a project starts only once signed)")
    elif group == "clip":
        return _("Kept within 2%–95%")
    return _("%(label)s: %(what)s", label=label, what="、".join(parts) if parts else _("not known"))


def describe_prior(group: str, values: dict, points: float) -> str:
    """The rule-based prior's items: an indicator meets its standard (+10) or not (-10)."""
    if group == "stage":
        return _("Stage reached beyond negotiation")
    if group == "clip":
        return _("Kept within 2%–95%")
    label = str(PRIOR_LABELS.get(group, group))
    value, threshold = values.get(group), values.get(f"{group}_threshold")
    unit = {"total_investment": "wan", "intensity": "mu", "tax_per_mu": "mu", "output_per_mu": "mu"}.get(group)
    text = f"{label} {fmt(value)}" + (f" {_unit(unit)}" if unit and value is not None else "")
    if threshold is not None:
        text += (_(" (meets the %(t)s standard)", t=fmt(threshold)) if points > 0
                 else _(" (below the %(t)s standard)", t=fmt(threshold)))
    return text


def shown_tenths(points: list[float], base: float, total: float) -> tuple[int, int, list[int]]:
    """(base, total, each factor) in tenths of a percentage point, rounded so that the shown
    factors add up exactly from the shown base to the shown chance (largest remainders; each
    shown figure is its own value rounded down or up, so no sign ever flips)."""
    base_t, total_t = round(base * 1000), round(total * 1000)
    raw = [p * 10 for p in points]
    shown = [math.floor(r) for r in raw]
    missing = total_t - base_t - sum(shown)
    order = sorted(range(len(raw)), key=lambda i: -(raw[i] - shown[i]))
    for i in order:
        if missing <= 0:
            break
        if raw[i] > shown[i]:
            shown[i] += 1
            missing -= 1
    if missing:  # figures stored apart from their chance (should not happen): show the difference
        total_t -= missing
    return base_t, total_t, shown


def breakdown(factors: dict | None, target: str = "sign") -> dict | None:
    """The page's table: base, one line per factor (ups first, by size), and the chance, all in
    shown tenths that add up; None when the stored factors have no base (older scores)."""
    factors = factors or {}
    method = factors.get("method")
    base = (factors.get("base") or {}).get(target)
    items = factors.get(target) or []
    if method is None or base is None or not items:
        return None
    points = [float(item.get("points") or 0) for item in items]
    total = base + sum(points) / 100
    base_t, total_t, shown = shown_tenths(points, base, total)
    values, reference = factors.get("values") or {}, factors.get("reference") or {}
    lines = []
    for item, tenths in zip(items, shown):
        group = item.get("group")
        sign = (tenths > 0) - (tenths < 0)
        what = (describe_prior(group, values, item.get("points") or 0) if method == "prior"
                else describe(group, values, reference, sign, target))
        lines.append({"group": group, "points": float(item.get("points") or 0), "tenths": tenths, "sign": sign,
                      "what": what, "shown": points_text(tenths),
                      "text": _("%(what)s: %(points)s", what=what, points=points_text(tenths))})
    rank = {1: 0, -1: 1, 0: 2}  # the ups, then the downs, each by size; those shown as 0.0 last
    lines.sort(key=lambda line: (rank[line["sign"]], -abs(line["points"])))
    return {"method": method, "base": base_t / 10, "total": total_t / 10, "lines": lines}


def factor_lines(factors: dict | None, target: str = "sign") -> list[dict]:
    """A stored score's factors for `target`, worded now: [{group, points, text}], ups first."""
    factors = factors or {}
    if factors.get("method") is None:
        return _legacy_lines(factors, target)
    table = breakdown(factors, target)
    if table is None:
        return []
    return [{"group": line["group"], "points": round(line["points"], 2), "text": line["text"]}
            for line in table["lines"]]


# --- scores stored before the factors added up ---------------------------------------------------

def _legacy_with_threshold(label, value, unit, threshold, points) -> str:
    if value is None:
        return f"{label} —"
    text = f"{label} {fmt(value, 1)} {unit}"
    if threshold is not None:
        above = value >= float(threshold)
        word = _("above") if above else _("below")
        if (above and points < 0) or (not above and points > 0):  # say why the sign goes the other way
            text += _(" (%(word)s the %(t)s threshold, yet the score moves this way with the figure known)",
                      word=word, t=fmt(float(threshold), 1))
        else:
            text += _(" (%(word)s the %(t)s threshold)", word=word, t=fmt(float(threshold), 1))
    return text


def _legacy_describe(group: str, values: dict, points: float) -> str:
    from crm.scoring.features import LEGACY_GROUP_LABELS

    label = str(LEGACY_GROUP_LABELS.get(group, group))
    v = values.get
    if group in ("intensity", "tax_per_mu", "output_per_mu"):
        return _legacy_with_threshold(label, v(group), _("10k yuan/mu"), v(f"{group}_threshold"), points)
    if group == "scale":
        return f"{label} {fmt(v('planned'), 0)} {_('10k yuan')}"
    if group == "chain":
        node = v("node")
        return f"{label} {_chain_name(v('chain')) or '—'}{(' · ' + node) if node else ''}"
    if group == "source":
        rate = "—" if v("source_rate") is None else f"{v('source_rate') * 100:.0f}%"
        return _("%(label)s (signing rate of the source %(rate)s)", label=label, rate=rate)
    if group == "region":
        return f"{label} {v('region') or '—'}"
    if group == "tech":
        parts = []
        if v("high_tech"):
            parts.append(_("high-tech"))
        if v("specialized"):
            parts.append(_("specialised"))
        if v("patents") is not None:
            parts.append(_("%(n)s patents", n=v("patents")))
        if v("rd_ratio") is not None:
            parts.append(_("R&D %(r)s%%", r=fmt(v("rd_ratio"), 1)))
        return f"{label} {'、'.join(parts) or '—'}"
    if group == "jobs":
        return f"{label} {fmt(v('jobs'), 0)}"
    if group == "follow_up":
        return _("%(label)s: %(n)s", label=label, n=v("activities", 0))
    if group == "stage":
        from crm.leads.pipeline import stage_label

        text = f"{label} {stage_label(v('stage')) if v('stage') else '—'}"
        if v("days_in_stage") is not None:
            text += _(", %(n)s days without moving", n=v("days_in_stage"))
        return text
    if group == "screening":
        from crm.screening.models import RESULT_LABELS

        result = v("screening_result")
        return f"{label} {str(RESULT_LABELS.get(result, result)) if result else '—'}"
    return label


def _chain_name(code):
    """A chain's name for its code (the first factors stored codes); the code if unknown."""
    if not code:
        return code
    from sqlalchemy import select

    from crm.chains.models import Chain
    from crm.extensions import db

    return db.session.scalar(select(Chain.name).where(Chain.code == code)) or code


def _legacy_lines(factors: dict, target: str) -> list[dict]:
    values = factors.get("values") or {}
    prior = factors.get("basis") == "prior"
    lines = []
    for item in factors.get(target) or []:
        group, points = item.get("group"), float(item.get("points") or 0)
        if "text" in item:  # stored before the factors were kept as figures
            text = item["text"]
        elif prior and group != "stage":
            word = _("meets the threshold") if points > 0 else _("below the threshold")
            text = f"{str(PRIOR_LABELS.get(group, group))} {fmt(values.get(group), 1)}: {points:+.0f} ({word})"
        else:
            text = f"{_legacy_describe(group, values, points)}: {points:+.0f} {_('points')}"
        lines.append({"group": group, "points": points, "text": text})
    return lines

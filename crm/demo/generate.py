"""Deterministic demo leads for the 将乐县 investment-attraction CRM.

`generate_leads(count, seed=2026, today=None)` returns plain dicts carrying the interchange keys
of DOMAIN.md plus "officer", "stage_history" and "activities". Standard library and python-stdnum
only; the same seed and `today` always give the same list. Run this file for a self-check.
"""
from __future__ import annotations

import datetime as dt
import random
from bisect import bisect

from stdnum.cn import uscc as _uscc

try:
    from . import data as D
except ImportError:  # run as a script: python crm/demo/generate.py
    import data as D  # type: ignore[no-redef]

__all__ = ["generate_leads", "PIPELINE", "SIDE_EXITS", "OWNER_UNITS", "make_uscc"]

PIPELINE: list[str] = ["lead", "negotiating", "screening", "awaiting_decision", "admitted", "signed",
                       "started", "completed", "producing", "above_scale"]
SIDE_EXITS: list[str] = ["returned", "rejected", "lost"]

_DAY = dt.timedelta(days=1)
_WINDOW_DAYS = 1080          # leads are created within the last ~3 years
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_CHAIN_BY_CODE = {c["code"]: c for c in D.CHAINS}
_UNIT_KIND = {u["name"]: u["kind"] for u in D.UNITS}
_SOURCE_KIND = {s["name"]: s["kind"] for s in D.SOURCES}
_SOURCES_BY_KIND: dict[str, list[str]] = {}
for _s in D.SOURCES:
    _SOURCES_BY_KIND.setdefault(_s["kind"], []).append(_s["name"])

# Officers and team leads of each unit that owns leads (officers first, they carry most leads).
_OFFICERS: dict[str, list[str]] = {}
_TEAM_LEADS: dict[str, list[str]] = {}
for _u in D.DEMO_USERS:
    if "officer" in _u["roles"]:
        _OFFICERS.setdefault(_u["unit"], []).append(_u["username"])
    elif "team_lead" in _u["roles"]:
        _TEAM_LEADS.setdefault(_u["unit"], []).append(_u["username"])

# Which units chase which chains (weights).
_OWNER_BY_CHAIN: dict[str, list[tuple[str, int]]] = {
    "light_alloy": [("轻合金产业招商组", 5), ("积善工业园区", 4), ("将乐经济开发区", 3), ("高唐镇", 1),
                    ("县招商服务中心", 1)],
    "high_end_equipment": [("积善工业园区", 3), ("将乐经济开发区", 3), ("轻合金产业招商组", 2),
                           ("县招商服务中心", 2), ("高唐镇", 1)],
    "fine_chemical": [("精细化工产业招商组", 5), ("将乐经济开发区", 3), ("积善工业园区", 2),
                      ("县招商服务中心", 1)],
    "new_energy": [("新能源产业招商组", 5), ("将乐经济开发区", 2), ("积善工业园区", 1), ("高唐镇", 1),
                   ("县招商服务中心", 1)],
    "digital_economy": [("数字经济产业招商组", 5), ("将乐经济开发区", 2), ("古镛镇", 2),
                        ("县招商服务中心", 1)],
    "agri_forestry": [("农林康养产业招商组", 4), ("高唐镇", 2), ("古镛镇", 1), ("县招商服务中心", 1),
                      ("将乐经济开发区", 1)],
    "forest_wellness": [("农林康养产业招商组", 4), ("古镛镇", 3), ("高唐镇", 1), ("县招商服务中心", 1)],
    "biomedicine": [("县招商服务中心", 3), ("将乐经济开发区", 3), ("精细化工产业招商组", 1),
                    ("农林康养产业招商组", 1)],
}
OWNER_UNITS: list[str] = []
for _pairs in _OWNER_BY_CHAIN.values():
    for _name, _w in _pairs:
        if _name not in OWNER_UNITS:
            OWNER_UNITS.append(_name)
for _name in OWNER_UNITS:  # every owner unit is a town, park or group with someone to own leads
    assert _UNIT_KIND[_name] in ("town", "park", "investment_group"), _name
    assert _OFFICERS.get(_name) or _TEAM_LEADS.get(_name), _name

_CHAIN_WEIGHTS = [("light_alloy", 18), ("fine_chemical", 13), ("agri_forestry", 16),
                  ("forest_wellness", 8), ("new_energy", 13), ("high_end_equipment", 12),
                  ("digital_economy", 11), ("biomedicine", 9)]

# Economics per chain. invest: planned investment range (万元, log-uniform, skewed low);
# intensity: fixed assets per mu (万元/亩); turnover: yearly output / fixed assets; tax_rate:
# tax / output; per_job: output per worker (万元); high_tech: share of 高新技术企业 among the
# leads whose tech fields are known; tech_known: how often they are filled in at all.
_ECON = {
    "light_alloy": dict(invest=(10000, 200000), intensity=(200, 500), turnover=(1.2, 2.5),
                        tax_rate=(0.02, 0.04), per_job=(150, 300), high_tech=0.25, tech_known=0.85),
    "new_energy": dict(invest=(10000, 200000), intensity=(250, 600), turnover=(0.8, 2.0),
                       tax_rate=(0.025, 0.05), per_job=(150, 300), high_tech=0.45, tech_known=0.85),
    "high_end_equipment": dict(invest=(5000, 100000), intensity=(200, 550), turnover=(0.8, 1.6),
                               tax_rate=(0.04, 0.065), per_job=(80, 150), high_tech=0.4,
                               tech_known=0.85),
    "fine_chemical": dict(invest=(5000, 150000), intensity=(200, 550), turnover=(0.8, 1.8),
                          tax_rate=(0.04, 0.065), per_job=(150, 300), high_tech=0.3, tech_known=0.85),
    "digital_economy": dict(invest=(3000, 80000), intensity=(250, 600), turnover=(0.8, 2.0),
                            tax_rate=(0.03, 0.06), per_job=(60, 150), high_tech=0.5, tech_known=0.85),
    "biomedicine": dict(invest=(3000, 80000), intensity=(250, 600), turnover=(0.6, 1.5),
                        tax_rate=(0.04, 0.08), per_job=(80, 150), high_tech=0.45, tech_known=0.8),
    "agri_forestry": dict(invest=(2000, 30000), intensity=(100, 300), turnover=(0.8, 2.0),
                          tax_rate=(0.02, 0.05), per_job=(25, 60), high_tech=0.1, tech_known=0.6),
    "forest_wellness": dict(invest=(3000, 100000), intensity=(80, 250), turnover=(0.2, 0.5),
                            tax_rate=(0.05, 0.10), per_job=(15, 40), high_tech=0.02, tech_known=0.5),
}
# Nodes whose projects run smaller (or bigger) than their chain's.
_NODE_SCALE = {
    "表面处理": 0.3, "文创旅游商品": 0.3, "电商直播": 0.3, "软件和信息服务": 0.3, "研学旅行": 0.5,
    "农产品品牌营销": 0.5, "良种繁育": 0.6, "环保装备": 0.5, "工业机器人集成": 0.6, "医疗器械": 0.6,
    "保健食品": 0.6, "食品添加剂": 0.5, "分布式光伏": 0.4, "户外运动": 0.5, "文旅民宿": 0.4,
    "电芯制造": 1.5, "光伏组件": 1.3, "再生铝熔炼": 1.2, "数据中心": 1.5,
}
_INDUSTRIAL = {"light_alloy", "new_energy", "high_end_equipment", "fine_chemical", "digital_economy",
               "biomedicine"}

# Final stage of a lead (a believable county ledger: many leads, few landings).
_STAGE_WEIGHTS = [("lead", 13), ("negotiating", 14), ("screening", 3), ("returned", 3),
                  ("awaiting_decision", 3), ("admitted", 4), ("signed", 8), ("started", 7),
                  ("completed", 4), ("producing", 6), ("above_scale", 3), ("rejected", 4), ("lost", 36)]
# The stage a lost lead was terminated from.
_LOST_FROM_WEIGHTS = [("lead", 28), ("negotiating", 40), ("screening", 3), ("returned", 8),
                      ("awaiting_decision", 2), ("admitted", 6), ("signed", 11), ("started", 2)]

# Calendar days for a move (low, high, mode of a triangular draw).
_DURATIONS = {
    ("lead", "negotiating"): (5, 90, 20),
    ("negotiating", "screening"): (15, 180, 45),
    ("screening", "awaiting_decision"): (2, 5, 3),      # 三日内反馈
    ("screening", "returned"): (2, 5, 3),
    ("returned", "screening"): (5, 40, 12),
    ("returned", "negotiating"): (5, 40, 12),
    ("awaiting_decision", "admitted"): (5, 45, 15),     # the leadership group meets about monthly
    ("awaiting_decision", "rejected"): (5, 45, 15),
    ("admitted", "signed"): (7, 90, 25),
    ("signed", "started"): (30, 240, 90),
    ("started", "completed"): (150, 600, 300),
    ("completed", "producing"): (15, 150, 45),
    ("producing", "above_scale"): (150, 540, 300),
}
_LOST_DURATION = (10, 180, 60)
_LOST_AFTER_SIGNING_DURATION = (120, 420, 240)   # 签约后长期未开工 before the county gives up
# Days spent in the final stage so far (low, high, mode).
_SLACK = {
    "lead": (0, 300, 20), "negotiating": (0, 300, 40), "screening": (0, 4, 1),
    "returned": (1, 30, 8), "awaiting_decision": (0, 40, 10), "admitted": (0, 60, 15),
    "signed": (0, 240, 60), "started": (0, 760, 200), "completed": (0, 760, 90),
    "producing": (0, 500, 150), "above_scale": (0, 360, 120),
}
# Closed leads (dropped, or not admitted) were closed on any day of the window: a county's ledger
# holds them from every year. Dated back only as far as their short paths, the first years held
# signers alone, and a model trained on them took every old source for a good one.
_CLOSED_ANY_DAY = {"lost", "rejected"}

_SOURCE_KIND_WEIGHTS = [("hometown", 22), ("chamber", 16), ("client", 18), ("event", 16),
                        ("advisor", 9), ("intermediary", 11), ("online", 8)]
_EVENT_CHAINS = {"数字中国建设峰会": {"digital_economy", "new_energy"}}

_PRE_KIND_WEIGHTS = [("visit", 30), ("call", 30), ("meeting", 20), ("online", 12), ("event", 8)]
_POST_KIND_WEIGHTS = [("visit", 35), ("call", 25), ("meeting", 25), ("online", 10), ("event", 5)]
_ACTIVITY_COUNT = {
    "lead": (0, 3), "negotiating": (1, 5), "screening": (2, 6), "returned": (2, 6),
    "awaiting_decision": (2, 6), "admitted": (2, 6), "signed": (3, 7), "started": (4, 8),
    "completed": (4, 8), "producing": (4, 8), "above_scale": (4, 8), "rejected": (2, 6),
    "lost": (1, 5),
}
_NUMBER_FIELDS = ["fixed_asset_investment_wan", "land_area_mu", "expected_output_wan",
                  "expected_tax_wan", "jobs"]
_PARKS = [("积善工业园区", 3), ("将乐经济开发区", 2), ("北郊工业园区", 1)]


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def _cum(pairs):
    items, cum, total = [], [], 0
    for item, w in pairs:
        total += w
        items.append(item)
        cum.append(total)
    return items, cum


_CHAIN_PICK = _cum(_CHAIN_WEIGHTS)
_STAGE_PICK = _cum(_STAGE_WEIGHTS)
_LOST_FROM_PICK = _cum(_LOST_FROM_WEIGHTS)
_SOURCE_KIND_PICK = _cum(_SOURCE_KIND_WEIGHTS)
_REGION_PICK = _cum(D.ORIGIN_REGIONS)
_PRE_KIND_PICK = _cum(_PRE_KIND_WEIGHTS)
_POST_KIND_PICK = _cum(_POST_KIND_WEIGHTS)
_PARK_PICK = _cum(_PARKS)
_OWNER_PICK = {code: _cum(pairs) for code, pairs in _OWNER_BY_CHAIN.items()}


def _pick(rng: random.Random, table) -> str:
    items, cum = table
    return items[bisect(cum, rng.random() * cum[-1])]


def _tri(rng: random.Random, spec) -> int:
    lo, hi, mode = spec
    return int(round(rng.triangular(lo, hi, mode)))


def _workday(day: dt.date, floor: dt.date) -> dt.date:
    """Move a Saturday or Sunday back to Friday when that stays after `floor`."""
    wd = day.weekday()
    if wd >= 5:
        friday = day - dt.timedelta(days=wd - 4)
        if friday > floor:
            return friday
    return day


def _nice(x: float) -> int:
    """A round number near x, as people write them in project names."""
    if x >= 5000:
        step = 1000
    elif x >= 1000:
        step = 500
    elif x >= 500:
        step = 50
    elif x >= 100:
        step = 10
    elif x >= 20:
        step = 5
    else:
        step = 1
    return max(step, int(round(x / step)) * step)


def _round_wan(x: float) -> int:
    step = 1000 if x >= 50000 else 500 if x >= 10000 else 100 if x >= 2000 else 50
    return max(step, int(round(x / step)) * step)


def _org_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714 check character included)."""
    if rng.random() < 0.65:   # codes issued since 2015 start with MA
        body = "MA" + "".join(rng.choices(_USCC_ALPHABET, k=6))
    else:
        body = "".join(rng.choices("0123456789", k=8))
    total = 0
    for c, w in zip(body, _GB11714_WEIGHTS):
        total += (int(c) if c.isdigit() else ord(c) - 55) * w
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def make_uscc(rng: random.Random, region_code: str) -> str:
    """A valid 18-character USCC of an enterprise (91…) registered in region_code."""
    first17 = "91" + region_code + _org_code(rng)
    return first17 + _uscc.calc_check_digit(first17)


def _company_key(name: str) -> str:
    key = name.replace("（", "").replace("）", "").replace("(", "").replace(")", "")
    changed = True
    while changed:
        changed = False
        for suffix in ("股份有限公司", "有限公司", "集团"):
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                changed = True
    return key


def _brand(rng: random.Random, three_chars: float = 0.15) -> str:
    """A two-character brand (sometimes three), no repeated character, none on the blacklist."""
    while True:
        b = rng.choice(D.BRAND_FIRST) + rng.choice(D.BRAND_SECOND)
        if rng.random() < three_chars:
            b += rng.choice(D.BRAND_SECOND)
        if len(set(b)) == len(b) and b[:2] not in D.BRAND_BLACKLIST:
            return b


def _event_name(day: dt.date, chain_name: str) -> str:
    y, m = day.year, day.month
    if m in (1, 2):
        return f"{y}年春节乡贤招商座谈会"
    if m == 4:
        return f"{y}年清明乡贤恳谈会"
    if m == 5:
        return f"{y}年“五一”乡贤专场座谈会"
    if m == 6:
        return f"{y}年中国·海峡项目成果交易会（6·18）"
    if m == 9:
        return f"{y}年中国国际投资贸易洽谈会（9·8）"
    if m in (3, 10):
        return f"{y}年三明市赴长三角招商推介会"
    return f"{y}年将乐县{chain_name}产业专场推介会"


def _amount_text(wan: int | None) -> str:
    if wan is None:
        return ""
    if wan >= 10000:
        return f"{wan / 10000:g}亿元"
    return f"{wan}万元"


# ---------------------------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------------------------
def _path_for(rng: random.Random, final: str) -> list[str]:
    def with_loop(path: list[str]) -> list[str]:
        # a returned-and-resubmitted case (退回补充材料后再次提交)
        if "awaiting_decision" in path and rng.random() < 0.12:
            i = path.index("screening") + 1
            back = ["returned", "screening"] if rng.random() < 0.6 else ["returned", "negotiating",
                                                                           "screening"]
            return path[:i] + back + path[i:]
        return path

    if final in PIPELINE:
        return with_loop(PIPELINE[: PIPELINE.index(final) + 1])
    if final == "returned":
        return ["lead", "negotiating", "screening", "returned"]
    if final == "rejected":
        return with_loop(PIPELINE[: PIPELINE.index("awaiting_decision") + 1]) + ["rejected"]
    frm = _pick(rng, _LOST_FROM_PICK)
    base = ["lead", "negotiating", "screening", "returned"] if frm == "returned" else \
        with_loop(PIPELINE[: PIPELINE.index(frm) + 1])
    return base + ["lost"]


def _event_occurrence(rng: random.Random, source: str, lo: dt.date, hi: dt.date) -> dt.date | None:
    found = []
    for year in range(lo.year, hi.year + 1):
        d = D.event_date(source, year)
        if d is not None and lo <= d <= hi:
            found.append(d)
    return rng.choice(found) if found else None


def generate_leads(count: int, seed: int = 2026, today: dt.date | None = None) -> list[dict]:
    """`count` demo leads, the same for the same seed and today (default: the county's today)."""
    if today is None:
        from crm import clock

        today = clock.today()
    rng = random.Random(seed)
    earliest = today - dt.timedelta(days=_WINDOW_DAYS)

    # ~1% of the leads are deliberate pairs: the same company followed by two units.
    plan = random.Random(seed * 7919 + 17)
    n_pairs = round(count * 0.005) if count >= 40 else (1 if count >= 10 else 0)
    dup_of: dict[int, int] = {}
    if n_pairs:
        half = count // 2
        seconds = plan.sample(range(half, count), n_pairs)
        firsts = plan.sample(range(0, half), n_pairs)
        dup_of = dict(zip(seconds, firsts))

    used_companies: set[str] = set()
    used_projects: set[str] = set()
    identities: dict[int, dict] = {}
    leads: list[dict] = []

    for idx in range(count):
        twin = identities.get(dup_of[idx]) if idx in dup_of else None

        # --- chain, node, owner, officer -----------------------------------------------------
        chain_code = twin["chain"] if twin else _pick(rng, _CHAIN_PICK)
        chain = _CHAIN_BY_CODE[chain_code]
        node = rng.choice(chain["nodes"])["name"]
        owner = _pick(rng, _OWNER_PICK[chain_code])
        if twin:
            others = [u for u in OWNER_UNITS if u != twin["owner"]]
            while owner == twin["owner"]:
                owner = _pick(rng, _OWNER_PICK[chain_code]) if rng.random() < 0.7 else rng.choice(others)
        officers, leads_of_unit = _OFFICERS.get(owner, []), _TEAM_LEADS.get(owner, [])
        officer = rng.choice(officers) if officers and (rng.random() < 0.8 or not leads_of_unit) \
            else rng.choice(leads_of_unit)

        # --- stage, path, durations ------------------------------------------------------------
        final = _pick(rng, _STAGE_PICK)
        if twin and rng.random() < 0.8:
            final = "lead" if rng.random() < 0.5 else "negotiating"
        path = _path_for(rng, final)
        durs = []
        for a, b in zip(path, path[1:]):
            spec = _DURATIONS.get((a, b)) or (
                _LOST_AFTER_SIGNING_DURATION if a in ("signed", "started") else _LOST_DURATION)
            durs.append(max(1, _tri(rng, spec)))
        total = sum(durs)
        closed_any_day = final in _CLOSED_ANY_DAY
        # A closed lead's days since closing are drawn evenly below; its spec gives the bounds only.
        slack_spec = (0, max(0, _WINDOW_DAYS - 10 - total), 0) if closed_any_day else _SLACK[final]
        # 长兴's red lights: started two years ago and not completed, completed and not producing
        stalled = final in ("started", "completed") and rng.random() < 0.08
        if stalled:
            slack = rng.randint(735, 800)
        elif closed_any_day:  # evenly over the window
            slack = int(rng.random() * (slack_spec[1] + 1))
        else:
            slack = _tri(rng, slack_spec)
        budget = _WINDOW_DAYS - 10 - (slack if stalled else 0)
        if total > budget:
            factor = budget / total
            durs = [max(1, int(d * factor)) for d in durs]
            total = sum(durs)
        slack = min(slack, _WINDOW_DAYS - total)

        # --- source and creation date ----------------------------------------------------------
        kind = _pick(rng, _SOURCE_KIND_PICK)
        while stalled and kind == "event":
            kind = _pick(rng, _SOURCE_KIND_PICK)
        created = None
        source = None
        if kind == "event":
            source = rng.choice(_SOURCES_BY_KIND["event"])
            if source in _EVENT_CHAINS and chain_code not in _EVENT_CHAINS[source]:
                source = rng.choice([s for s in _SOURCES_BY_KIND["event"] if s not in _EVENT_CHAINS])
            # the lead is logged right after the event: let the first move and the time in the
            # final stage absorb the difference
            rest = total - (durs[0] if durs else 0)
            if durs:
                first_spec = _LOST_DURATION if path[1] == "lost" else _DURATIONS[(path[0], path[1])]
                f_lo, f_hi = 1, first_spec[1]
            else:
                f_lo = f_hi = 0
            pool_lo, pool_hi = f_lo + slack_spec[0], f_hi + slack_spec[1]
            win_lo = max(earliest, today - dt.timedelta(days=rest + pool_hi))
            win_hi = today - dt.timedelta(days=rest + pool_lo)
            occ = _event_occurrence(rng, source, win_lo, win_hi) if win_lo <= win_hi else None
            if occ is None:
                kind = _pick(rng, _SOURCE_KIND_PICK)
                while kind == "event":
                    kind = _pick(rng, _SOURCE_KIND_PICK)
                source = None
            else:
                created = min(occ + dt.timedelta(days=rng.randint(0, 3)), win_hi)
                pool = (today - created).days - rest
                s_hi = min(slack_spec[1], pool - f_lo)
                s = rng.randint(slack_spec[0], s_hi) if s_hi >= slack_spec[0] else slack_spec[0]
                first = min(f_hi, max(f_lo, pool - s))
                if durs:
                    durs[0] = first
                total = rest + first
                slack = pool - first
        if source is None:
            source = rng.choice(_SOURCES_BY_KIND[kind])
            created = today - dt.timedelta(days=total + slack)
            created = _workday(created, earliest - dt.timedelta(days=3))

        dates = [created]
        for d in durs:
            nxt = dates[-1] + dt.timedelta(days=d)
            dates.append(_workday(nxt, dates[-1]))
        history = list(zip(path, dates))
        lost_from = path[-2] if final == "lost" else None
        reached = set(path)

        # --- origin and company ------------------------------------------------------------------
        if twin:
            region, prefix, city, company, uscc_code, brand, word = (
                twin["region"], twin["prefix"], twin["city"], twin["company"], twin["uscc"],
                twin["brand"], twin["word"])
        else:
            hint = D.SOURCE_REGIONS.get(source)
            region = hint if hint and rng.random() < 0.6 else _pick(rng, _REGION_PICK)
            prefix, city, code = rng.choice(D.REGION_CITIES[region])
            word = rng.choice(D.NODE_PROFILES[node]["words"])
            advanced = "signed" in reached
            p_uscc = {"lead": 0.55, "negotiating": 0.68}.get(lost_from or final, 0.86)
            for _attempt in range(50):
                brand = _brand(rng)
                r = rng.random()
                local_entity = False
                if region == "香港":
                    company = (f"{brand}{word}（香港）有限公司" if r < 0.5 else f"香港{brand}集团有限公司")
                elif region == "台湾":
                    company = f"台湾{brand}{word}股份有限公司"
                elif advanced and r < 0.2:
                    company = f"{brand}{word}（将乐）有限公司"   # the project company set up here
                    local_entity = True
                elif r < 0.72:
                    company = f"{prefix}{brand}{word}有限公司"
                elif r < 0.84:
                    company = f"{prefix}{brand}{word}股份有限公司"
                elif r < 0.92:
                    company = f"{prefix}{brand}集团有限公司"
                else:
                    company = f"{brand}{word}（{city}）有限公司"
                key = _company_key(company)
                if key not in used_companies:
                    break
            used_companies.add(key)
            reg_code = D.COUNTY_REGION_CODE if local_entity else code
            uscc_code = make_uscc(rng, reg_code) if reg_code and rng.random() < p_uscc else None
        short = brand + word if len(word) <= 2 else brand + "公司"
        identities[idx] = {"chain": chain_code, "owner": owner, "region": region, "prefix": prefix,
                           "city": city, "company": company, "uscc": uscc_code, "brand": brand,
                           "word": word}

        # --- economics -------------------------------------------------------------------------
        e = _ECON[chain_code]
        scale = _NODE_SCALE.get(node, 1.0)
        lo, hi = e["invest"][0] * scale, min(200000, e["invest"][1] * scale)
        q = rng.random() ** 1.4
        planned = _round_wan(lo * (hi / lo) ** q)
        fixed = min(planned, max(100, int(round(planned * rng.uniform(0.6, 0.92) / 100)) * 100))
        intensity = rng.uniform(*e["intensity"])
        land_raw = fixed / intensity
        if land_raw < 10:        # nobody is given less than a 10-mu plot: the project grows to fit
            land_raw = rng.uniform(10, 18)
            fixed = max(fixed, int(round(land_raw * intensity / 100)) * 100)
            planned = max(planned, _round_wan(fixed / rng.uniform(0.6, 0.92)))
            fixed = min(fixed, planned)
        elif land_raw > 500:     # big projects are packed tighter on what land there is
            land_raw = rng.uniform(380, 500)
        land = float(int(round(land_raw))) if rng.random() < 0.7 else round(land_raw, 1)
        land = max(10.0, land)
        output_raw = fixed * rng.uniform(*e["turnover"])
        tax_raw = output_raw * rng.uniform(*e["tax_rate"])
        if tax_raw / land > 48:
            tax_raw = land * rng.uniform(35, 48)
        low = chain_code in _INDUSTRIAL and rng.random() < 0.07
        if low or (final == "rejected" and rng.random() < 0.5):
            tax_raw = land * rng.uniform(1.5, 5.0)   # below the 5 万元/亩 low-efficiency line
        tax_mu = tax_raw / land
        if tax_raw >= 1000:
            tax = int(round(tax_raw / 10)) * 10
        else:
            tax = int(round(tax_raw)) if tax_raw >= 10 else round(tax_raw, 1)
        step = 100 if output_raw >= 5000 else 10
        output = max(step, int(round(output_raw / step)) * step)
        jobs_raw = output_raw / rng.uniform(*e["per_job"])
        jobs = min(3000, max(8, int(round(jobs_raw / 5)) * 5 if jobs_raw >= 50 else int(round(jobs_raw))))

        # --- tech content ----------------------------------------------------------------------
        early = (lost_from or final) in ("lead", "negotiating")
        if rng.random() < e["tech_known"] * (0.75 if early else 1.0):
            high_tech = rng.random() < e["high_tech"]
            specialized = rng.random() < (0.35 if high_tech else 0.05)
            if high_tech:
                patents = min(150, int(8 + rng.paretovariate(1.6) * 6))
                rd_ratio = round(rng.uniform(3.0, 8.5), 1)
            else:
                patents = int(round(rng.triangular(0, 15, 1)))
                rd_ratio = round(rng.uniform(0.3, 3.0), 1)
            if rng.random() < 0.1:
                patents = None
            if rng.random() < 0.15:
                rd_ratio = None
        else:
            high_tech = specialized = patents = rd_ratio = None

        numbers = {"planned_investment_wan": planned, "fixed_asset_investment_wan": fixed,
                   "land_area_mu": land, "expected_output_wan": output, "expected_tax_wan": tax,
                   "jobs": jobs}
        p_missing = {"lead": 0.22, "negotiating": 0.18, "returned": 0.3}.get(lost_from or final, 0.0)
        if rng.random() < p_missing:
            for f in rng.sample(_NUMBER_FIELDS, rng.randint(1, 3)):
                numbers[f] = None
            if rng.random() < 0.15:
                numbers["planned_investment_wan"] = None

        # --- project name --------------------------------------------------------------------
        site = ""
        if chain_code == "agri_forestry" and _UNIT_KIND[owner] == "town" and rng.random() < 0.6:
            site = owner
        elif chain_code in D.SITES:
            site = rng.choice(D.SITES[chain_code])
        for _attempt in range(4):
            tpl, n_lo, n_hi = rng.choice(D.NODE_PROFILES[node]["projects"])
            if n_hi:
                qn = min(1.0, max(0.0, q + rng.uniform(-0.2, 0.2)))
                project = tpl.format(n=_nice(n_lo + (n_hi - n_lo) * qn), site=site or "将乐")
            else:
                project = tpl.format(n="", site=site or "将乐")
                if rng.random() < 0.5 and "{site}" not in tpl:
                    project = brand + project
            if project not in used_projects:
                break
        if project in used_projects:
            project = brand + project
        used_projects.add(project)

        # --- the park / place named in summaries ---------------------------------------------
        owner_kind = _UNIT_KIND[owner]
        if chain_code in ("agri_forestry", "forest_wellness"):
            park = site or owner
        elif owner_kind == "park":
            park = owner
        elif owner_kind == "town":
            park = f"{owner}工业集中区"
        else:
            park = _pick(rng, _PARK_PICK)

        # --- outcome fields ------------------------------------------------------------------
        stage_dates = dict(history)  # the last visit of a stage wins; main-line stages occur once
        lost_reason = None
        if final == "lost":
            if lost_from in ("signed", "started"):
                lost_reason = rng.choice(D.LOST_REASONS_AFTER_SIGNING)
            elif tax_mu < 5 and rng.random() < 0.5:
                lost_reason = "亩均税收达不到要求"
            else:
                lost_reason = rng.choice(D.LOST_REASONS)

        lead = {
            "company_name": company,
            "uscc": uscc_code,
            "project_name": project,
            "industry": chain_code,
            "chain_node": node,
            "source_kind": kind,
            "source_name": source,
            "origin_region": region,
            "planned_investment_wan": numbers["planned_investment_wan"],
            "fixed_asset_investment_wan": numbers["fixed_asset_investment_wan"],
            "land_area_mu": numbers["land_area_mu"],
            "expected_output_wan": numbers["expected_output_wan"],
            "expected_tax_wan": numbers["expected_tax_wan"],
            "high_tech": high_tech,
            "specialized": specialized,
            "patents": patents,
            "rd_ratio": rd_ratio,
            "jobs": numbers["jobs"],
            "owner_unit": owner,
            "created_on": created,
            "stage": final,
            "signed_on": stage_dates.get("signed"),
            "started_on": stage_dates.get("started"),
            "lost_reason": lost_reason,
            "officer": officer,
            "stage_history": history,
        }

        # --- activities ------------------------------------------------------------------------
        ctx = {"city": city, "company": short if "（将乐）" in company else company,
               "short": short, "project": project, "park": park,
               "chain": chain["name"], "node": node, "leader": "", "event": "", "round": 2,
               "land": f"{land:g}", "materials": "", "reason": lost_reason or "",
               "source": f"{created.year}年{source}" if kind == "event" else source}
        lead["activities"] = _activities(rng, ctx, history, final, kind, today, region == "将乐")
        leads.append(lead)
    return leads


def _activities(rng: random.Random, ctx: dict, history: list, final: str, source_kind: str,
                today: dt.date, local: bool) -> list[dict]:
    created = history[0][1]
    closed = final in ("lost", "rejected")
    end = history[-1][1] if closed else today
    signed_on = next((d for s, d in history if s == "signed"), None)
    fixed: list[tuple[dt.date, str, str]] = []
    if rng.random() < 0.7:
        k, tpl = D.FIRST_CONTACT_SUMMARIES[source_kind]
        fixed.append((created, k, tpl))

    for stage, day in history[1:]:
        if stage in D.MILESTONE_SUMMARIES and rng.random() < 0.75:
            if stage == "signed" and source_kind == "online" and rng.random() < 0.7:
                k, tpl = D.CLOUD_SIGNING_SUMMARY
            else:
                k, tpl = rng.choice(D.MILESTONE_SUMMARIES[stage])
            fixed.append((day, k, tpl))
        elif stage == "returned":
            k, tpl = D.CLOSING_SUMMARIES["returned"]
            fixed.append((day, k, tpl))
    if closed:
        k, tpl = D.CLOSING_SUMMARIES[final]
        fixed.append((end, k, tpl))
    while len(fixed) > 8:
        fixed.pop(rng.randrange(1, len(fixed) - 1))   # keep the first contact and the closing

    lo, hi = _ACTIVITY_COUNT[final]
    n_routine = max(0 if closed or final == "lead" else 1, rng.randint(lo, hi) - len(fixed))
    n_routine = min(n_routine, 8 - len(fixed))
    span = (end - created).days
    stale = False
    routine_days: list[dt.date] = []
    if n_routine and span >= 0:
        hi = span
        if closed and span > 30:  # a lead about to be dropped goes quiet first (own draw: the rest stays as seeded)
            hi = span - random.Random(created.toordinal() * 7919 + span).randint(15, min(120, span // 2))
        routine_days = sorted(created + dt.timedelta(days=rng.randint(0, hi)) for _ in range(n_routine))
        if not closed:
            # Leads that have sat long at the start of the pipeline are mostly forgotten (the
            # "zombies" every ledger has): nobody has followed them up for months.
            in_stage = (today - history[-1][1]).days
            early = final in ("lead", "negotiating", "returned")
            stale = rng.random() < (0.12 + 0.6 * min(1.0, in_stage / 300) if early else 0.12)
            back = rng.randint(30, max(30, min(400, in_stage)) if early else 150) if stale else rng.randint(0, 20)
            latest = max(created, today - dt.timedelta(days=back))
            routine_days[-1] = max(routine_days[-1], latest) if not stale else latest
            routine_days.sort()

    entries: list[tuple[dt.date, str, str]] = list(fixed)
    negotiating_on = next((d for s, d in history if s == "negotiating"), None)
    producing_on = next((d for s, d in history if s == "producing"), None)
    used: set[str] = set()
    for day in routine_days:
        post = signed_on is not None and day > signed_on
        first_contact = negotiating_on is None or day < negotiating_on
        kind = _pick(rng, _POST_KIND_PICK if post else _PRE_KIND_PICK)
        if producing_on is not None and day > producing_on:
            pool = D.AFTERCARE_SUMMARIES[kind]
        else:
            pool = (D.SERVICE_SUMMARIES if post else D.LEAD_PHASE_SUMMARIES if first_contact
                    else D.ACTIVITY_SUMMARIES)[kind]
        if local:      # a company already in 将乐: nobody travels to see it
            pool = [t for t in pool if "{city}" not in t] or D.ACTIVITY_SUMMARIES["call"]
        elif kind == "visit" and not post:
            pool = [t for t in pool if "{city}" in t]
        if kind != "event":
            day = _workday(day, created)
        fresh = [t for t in pool if t not in used] or pool
        tpl = rng.choice(fresh)
        used.add(tpl)
        entries.append((day, kind, tpl))
    entries.sort(key=lambda x: x[0])

    acts = []
    for day, kind, tpl in entries:
        ctx["leader"] = rng.choice(D.LEADER_TITLES)
        ctx["event"] = _event_name(day, ctx["chain"])
        ctx["round"] = rng.randint(2, 4)
        if "{materials}" in tpl:
            ctx["materials"] = "、".join(rng.sample(D.MISSING_MATERIALS, rng.randint(2, 4)))
        acts.append({"kind": kind, "occurred_on": day, "summary": tpl.format(**ctx),
                     "next_follow_up_on": None})

    for i, act in enumerate(acts[:-1]):
        nxt = acts[i + 1]["occurred_on"]
        if act["occurred_on"] < nxt <= act["occurred_on"] + dt.timedelta(days=45) and rng.random() < 0.5:
            act["next_follow_up_on"] = nxt
    if acts and not closed:
        last = acts[-1]
        if final in ("producing", "above_scale"):
            if rng.random() < 0.5:
                last["next_follow_up_on"] = today + dt.timedelta(days=rng.randint(14, 60))
        elif stale:
            due = last["occurred_on"] + dt.timedelta(days=rng.randint(7, 30))
            last["next_follow_up_on"] = due if due < today else today + dt.timedelta(days=rng.randint(1, 7))
        else:
            last["next_follow_up_on"] = today + dt.timedelta(days=rng.randint(1, 21))
    return acts


# ---------------------------------------------------------------------------------------------
# self-check
# ---------------------------------------------------------------------------------------------
if __name__ == "__main__":
    import time
    from collections import Counter

    TODAY = dt.date(2026, 11, 21)
    t0 = time.perf_counter()
    big = generate_leads(5000, today=TODAY)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, elapsed

    leads = generate_leads(3000, today=TODAY)
    assert leads == generate_leads(3000, today=TODAY), "not deterministic"
    assert leads != generate_leads(3000, seed=1, today=TODAY)
    assert len(leads) == 3000

    users = {u["username"]: u for u in D.DEMO_USERS}
    unit_names = {u["name"] for u in D.UNITS}
    assert len(unit_names) == len(D.UNITS) and 25 <= len(D.UNITS) <= 35
    assert all(u["unit"] in unit_names for u in D.DEMO_USERS)
    assert len(users) == len(D.DEMO_USERS)
    assert all(d in unit_names for d in D.SCREENING_UNITS)
    for dept in D.SCREENING_UNITS:
        assert any(u["unit"] == dept and "screener" in u["roles"] for u in D.DEMO_USERS), dept
    node_names = [n["name"] for c in D.CHAINS for n in c["nodes"]]
    assert len(node_names) == len(set(node_names)) and set(node_names) == set(D.NODE_PROFILES)
    assert all(4 <= len(c["nodes"]) <= 8 for c in D.CHAINS)
    assert {s["name"] for s in D.SOURCES} >= set(D.SOURCE_REGIONS)
    assert all(r in D.REGION_CITIES for r, _ in D.ORIGIN_REGIONS)
    assert set(D.SOURCE_REGIONS.values()) <= set(D.REGION_CITIES)

    keys = ["company_name", "uscc", "project_name", "industry", "chain_node", "source_kind",
            "source_name", "origin_region", "planned_investment_wan", "fixed_asset_investment_wan",
            "land_area_mu", "expected_output_wan", "expected_tax_wan", "high_tech", "specialized",
            "patents", "rd_ratio", "jobs", "owner_unit", "created_on", "stage", "signed_on",
            "started_on", "lost_reason", "officer", "stage_history", "activities"]
    all_stages = set(PIPELINE) | set(SIDE_EXITS)
    n_uscc = n_missing = n_low_tax = n_intensity_ok = n_int = 0
    open_last_future = open_with_acts = 0
    by_company: dict[str, list[dict]] = {}
    for L in leads:
        assert list(L) == keys, list(L)
        by_company.setdefault(L["company_name"], []).append(L)
        if L["uscc"] is not None:
            assert _uscc.validate(L["uscc"]) == L["uscc"]
            n_uscc += 1
        chain = _CHAIN_BY_CODE[L["industry"]]
        assert L["chain_node"] in [n["name"] for n in chain["nodes"]]
        assert _SOURCE_KIND[L["source_name"]] == L["source_kind"]
        assert L["origin_region"] in D.REGION_CITIES
        assert _UNIT_KIND[L["owner_unit"]] in ("town", "park", "investment_group")
        u = users[L["officer"]]
        assert u["unit"] == L["owner_unit"] and {"officer", "team_lead"} & set(u["roles"])
        land = L["land_area_mu"]
        assert land is None or 10 <= land <= 500
        if L["planned_investment_wan"] and L["fixed_asset_investment_wan"]:
            assert L["fixed_asset_investment_wan"] <= L["planned_investment_wan"]
        if any(L[f] is None for f in ["planned_investment_wan"] + _NUMBER_FIELDS):
            n_missing += 1
        if land and L["fixed_asset_investment_wan"]:
            n_int += 1
            n_intensity_ok += 150 <= L["fixed_asset_investment_wan"] / land <= 600
        if land and L["expected_tax_wan"] is not None and L["expected_tax_wan"] / land < 5:
            n_low_tax += 1
        # dates and stages
        st, created = L["stage"], L["created_on"]
        assert st in all_stages
        assert TODAY - dt.timedelta(days=_WINDOW_DAYS + 3) <= created <= TODAY
        hist = L["stage_history"]
        assert hist[0] == ("lead", created) and hist[-1][0] == st
        for (a, da), (b, db) in zip(hist, hist[1:]):
            assert da < db <= TODAY, (a, da, b, db)
            assert b in {"lead": {"negotiating", "lost"}, "negotiating": {"screening", "lost"},
                         "screening": {"awaiting_decision", "returned", "lost"},
                         "returned": {"negotiating", "screening", "lost"},
                         "awaiting_decision": {"admitted", "rejected", "lost"},
                         "admitted": {"signed", "lost"}, "signed": {"started", "lost"},
                         "started": {"completed", "lost"}, "completed": {"producing"},
                         "producing": {"above_scale"}}[a], (a, b)
        reached = {s for s, _ in hist}
        if st in PIPELINE and PIPELINE.index(st) >= PIPELINE.index("signed"):
            assert L["signed_on"] is not None
        if st in PIPELINE and PIPELINE.index(st) >= PIPELINE.index("started"):
            assert L["started_on"] is not None
        assert (L["signed_on"] is not None) == ("signed" in reached)
        assert (L["started_on"] is not None) == ("started" in reached)
        for f in ("signed_on", "started_on"):
            assert L[f] is None or created < L[f] <= TODAY
        if L["signed_on"] and L["started_on"]:
            assert L["signed_on"] < L["started_on"]
        assert (L["lost_reason"] is not None) == (st == "lost")
        # activities
        acts = L["activities"]
        assert len(acts) <= 8
        for a, b in zip(acts, acts[1:]):
            assert a["occurred_on"] <= b["occurred_on"]
        for a in acts:
            assert a["kind"] in ("visit", "call", "meeting", "online", "event")
            assert created <= a["occurred_on"] <= TODAY
            assert "{" not in a["summary"] and a["summary"]
            assert a["next_follow_up_on"] is None or a["next_follow_up_on"] > a["occurred_on"]
        if acts and st not in ("lost", "rejected", "producing", "above_scale"):
            open_with_acts += 1
            nf = acts[-1]["next_follow_up_on"]
            assert nf is not None
            open_last_future += nf > TODAY
            if nf > TODAY:
                assert nf <= TODAY + dt.timedelta(days=21)
        if st in ("lost", "rejected"):
            assert all(a["occurred_on"] <= hist[-1][1] for a in acts)

    # unique companies except the deliberate pairs in different units
    dups = {k: v for k, v in by_company.items() if len(v) > 1}
    for name, group in dups.items():
        assert len(group) == 2 and group[0]["owner_unit"] != group[1]["owner_unit"], name
        assert group[0]["uscc"] == group[1]["uscc"]
    assert 5 <= len(dups) <= 30, len(dups)
    share_uscc = n_uscc / len(leads)
    assert 0.62 <= share_uscc <= 0.78, share_uscc
    assert open_last_future / open_with_acts > 0.8

    order = PIPELINE + SIDE_EXITS
    hist_counts = Counter(L["stage"] for L in leads)
    print(f"5000 leads in {elapsed * 1000:.0f} ms; 3000-lead self-check passed")
    print(f"USCC {share_uscc:.1%}, some number missing {n_missing / len(leads):.1%}, "
          f"intensity 150–600 {n_intensity_ok / n_int:.1%}, tax/mu < 5 {n_low_tax / len(leads):.1%}, "
          f"same-company pairs {len(dups)}, open leads whose next follow-up is ahead "
          f"{open_last_future / open_with_acts:.1%}")
    print("stage histogram:")
    for s in order:
        print(f"  {s:18} {hist_counts[s]:5}  {'#' * (hist_counts[s] // 20)}")
    print("by chain:", dict(Counter(L["industry"] for L in leads)))
    print("by owner:", dict(Counter(L["owner_unit"] for L in leads)))
    print("by source kind:", dict(Counter(L["source_kind"] for L in leads)))
    print("by region:", dict(Counter(L["origin_region"] for L in leads).most_common()))
    picks = [leads[i] for i in (0, 7, 42, 314, 2718)]
    for L in picks:
        print("-" * 100)
        for k in keys[:-2]:
            print(f"  {k}: {L[k]}")
        print("  stage_history:", ", ".join(f"{s} {d}" for s, d in L["stage_history"]))
        for a in L["activities"]:
            print(f"    {a['occurred_on']} [{a['kind']}] {a['summary']}  → {a['next_follow_up_on']}")
    name = next(iter(dups))
    print("-" * 100)
    print("same company in two units:", name, [(L["owner_unit"], L["stage"]) for L in dups[name]])

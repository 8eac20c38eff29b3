"""The demo county's chain map and 招商作战表: what each chain and node is for, the firms already in
将乐 at each node, and some 400 target companies with the unit that chases each.

Three hooks for crm.demo.seed:
- `describe_chains(chains)` before the chains are first flushed (descriptions, node intents);
- `leave_chain_gaps(rows)` on the generated lead rows, before they become leads: the nodes of
  data.UNCOVERED_NODES get no landed project ("in_progress") or no live one either ("gap");
  the leads concerned simply carry no node (the chain stays);
- `seed_chains(nodes, units, users, today, seed)` once the leads exist: local firms and targets,
  some converted into one of the demo leads at their node (same company, same unit).
"""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select
from stdnum.cn import uscc as _stdnum_uscc

from crm.auth.models import Unit, User
from crm.chains.models import PRIORITY_ORDER, Chain, ChainNode, LocalEnterprise, Priority, Target, TargetStatus
from crm.demo import data
from crm.demo.generate import _OFFICERS, _OWNER_BY_CHAIN, _TEAM_LEADS, make_uscc
from crm.demo.generate import _brand as generated_brand
from crm.extensions import db
from crm.leads.models import Lead, normalize_company_name

_CST = timezone(timedelta(hours=8))
_LANDED = {"started", "completed", "producing", "above_scale"}
_CLOSED = {"lost", "rejected"}
# Targets per node by what the node needs (before a little jitter).
_TARGETS_PER_NODE = {"gap": 14, "in_progress": 12, "fill": 10, "extend": 8, "strengthen": 5}
_HIGH_SHARE = {"fill": 0.34, "extend": 0.24, "strengthen": 0.15}
# A gap may be listed as an extension and the other way round; 强链 stays 强链.
_SWAP = {"fill": "extend", "extend": "fill"}
_CONVERTED_SHARE = 0.16
_STATUS_WEIGHTS = [(TargetStatus.NOT_CONTACTED, 47), (TargetStatus.CONTACTED, 41), (TargetStatus.DROPPED, 12)]
_LOCAL_PREFIXES = ("福建省将乐县", "福建将乐", "将乐县", "福建")
_LOCAL_SUFFIXES = ("股份有限公司", "有限公司", "专业合作社", "（将乐）")


def describe_chains(chains: dict[str, Chain]) -> None:
    """Descriptions and node intents/notes, set on the new (unflushed) chains."""
    for code, chain in chains.items():
        chain.description = data.CHAIN_DESCRIPTIONS.get(code)
        for node in chain.nodes:
            plan = data.NODE_PLANS.get(node.name)
            if plan:
                node.intent, node.note = plan


def leave_chain_gaps(rows: list[dict]) -> None:
    """Take the node off the lead rows that would cover a node data.UNCOVERED_NODES keeps open."""
    for row in rows:
        kind = data.UNCOVERED_NODES.get(row["chain_node"])
        if kind is None:
            continue
        landed = row["started_on"] is not None or row["stage"] in _LANDED
        live = row["stage"] not in _CLOSED
        if landed or (kind == "gap" and live):
            row["chain_node"] = None


def _short(name: str) -> str:
    for prefix in _LOCAL_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    for suffix in _LOCAL_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.replace("（将乐）", "")


def _uscc(rng: random.Random, region: str, kind: str = "91") -> str:
    code = make_uscc(rng, region)          # 91…: an enterprise
    if kind == "91":
        return code
    first17 = kind + code[2:17]            # 93…: a farmers' cooperative
    return first17 + _stdnum_uscc.calc_check_digit(first17)


def _brand(rng: random.Random) -> str:
    return generated_brand(rng, three_chars=0.12)


def _pick(rng: random.Random, pairs):
    items = [i for i, _w in pairs]
    return rng.choices(items, weights=[w for _i, w in pairs])[0]


def _lead_location(company: str, region: str | None, uscc: str | None) -> str | None:
    cities = data.REGION_CITIES.get(region or "")
    if not cities:
        return None
    if uscc:
        for _prefix, city, code in cities:
            if code == uscc[2:8]:
                return data.CITY_LOCATIONS.get(city)
    for prefix, city, _code in cities:
        if company.startswith(prefix) or f"（{city}）" in company:
            return data.CITY_LOCATIONS.get(city)
    return data.CITY_LOCATIONS.get(cities[0][1])


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=_CST).astimezone(timezone.utc)


def seed_chains(nodes: dict[tuple[str, str], ChainNode], units: dict[str, Unit], users: dict[str, User],
                today: date, seed: int) -> dict[str, int]:
    """Local firms at every node but data.UNCOVERED_NODES, and the targets of the 作战表."""
    rng = random.Random(seed + 7)
    objects: list = []
    local_short: dict[str, list[str]] = {}
    for (_code, name), node in nodes.items():
        for firm, output, note in data.LOCAL_ENTERPRISES.get(name, []):
            kind = "93" if firm.endswith("合作社") else "91"
            objects.append(LocalEnterprise(node_id=node.id, name=firm, note=note,
                                           uscc=_uscc(rng, data.COUNTY_REGION_CODE, kind),
                                           output_wan=Decimal(str(output))))
            local_short.setdefault(name, []).append(_short(firm))

    # The leads a target can have turned into: from elsewhere, not the project company set up here.
    used_keys = set()
    candidates: dict[int, list] = defaultdict(list)
    lead_rows = db.session.execute(select(
        Lead.id, Lead.chain_node_id, Lead.owner_unit_id, Lead.owner_id, Lead.company_name, Lead.company_key,
        Lead.uscc, Lead.origin_region, Lead.created_on).order_by(Lead.id))
    for row in lead_rows:
        used_keys.add(row.company_key)
        if row.chain_node_id and row.origin_region != "将乐" and "将乐" not in row.company_name:
            candidates[row.chain_node_id].append(row)
    for names in data.LOCAL_ENTERPRISES.values():
        used_keys.update(normalize_company_name(n) for n, _o, _x in names)

    staff: dict[int, list[User]] = {}
    for unit_name, unit in units.items():
        people = _OFFICERS.get(unit_name, []) + _TEAM_LEADS.get(unit_name, [])
        staff[unit.id] = [users[u] for u in people]
    taken_leads: set[int] = set()
    target_keys: set[str] = set()
    list_drawn = today - timedelta(days=rng.randint(420, 540))   # the 作战表 was first drawn up then

    for spec in data.CHAINS:
        code = spec["code"]
        names = [n["name"] for n in spec["nodes"]]
        bases = data.TARGET_BASES[code]
        for name in names:
            node = nodes[(code, name)]
            intent = node.intent or "fill"
            kind = data.UNCOVERED_NODES.get(name, intent)
            count = max(2, _TARGETS_PER_NODE[kind] + rng.randint(-2, 2))
            partner = data.NODE_PARTNERS[name]
            local = local_short.get(name) or local_short.get(partner) or ["本地企业"]
            pool = [r for r in candidates.get(node.id, []) if r.id not in taken_leads]
            rng.shuffle(pool)
            pool.sort(key=lambda r: r.created_on > list_drawn + timedelta(days=30))  # recent ones first
            words = data.NODE_PROFILES[name]["words"]
            for _ in range(count):
                reason = _SWAP.get(intent, intent) if rng.random() < 0.2 else intent
                note = rng.choice(data.TARGET_NOTES[reason]).format(
                    node=name, chain=spec["name"], partner=partner, local=rng.choice(local))
                if rng.random() < 0.5:
                    note += "；" + rng.choice(data.TARGET_NOTE_EXTRAS)
                r = rng.random()
                high = _HIGH_SHARE[intent]
                priority = Priority.HIGH if r < high else Priority.MEDIUM if r < high + 0.5 else Priority.LOW
                created = list_drawn + timedelta(days=rng.randint(0, 360))
                target = Target(node_id=node.id, reason=reason, priority=priority.value,
                                priority_rank=PRIORITY_ORDER[priority])
                while pool and pool[-1].company_key in target_keys:   # twin leads: one target
                    pool.pop()
                if pool and rng.random() < _CONVERTED_SHARE:
                    lead = pool.pop()
                    taken_leads.add(lead.id)
                    target.company_name, target.company_key = lead.company_name, lead.company_key
                    target.uscc = lead.uscc
                    target.location = _lead_location(lead.company_name, lead.origin_region, lead.uscc)
                    target.unit_id, target.officer_id = lead.owner_unit_id, lead.owner_id
                    target.status, target.lead_id = TargetStatus.CONVERTED.value, lead.id
                    room = (lead.created_on - list_drawn).days - 7
                    created = list_drawn + timedelta(days=rng.randint(0, room)) if room >= 0 else \
                        lead.created_on - timedelta(days=rng.randint(7, 60))
                    updated = lead.created_on
                else:
                    prefix, location, region = rng.choice(bases)
                    for _attempt in range(50):
                        brand, word, r = _brand(rng), rng.choice(words), rng.random()
                        company = (f"{prefix}{brand}{word}有限公司" if r < 0.6 else
                                   f"{prefix}{brand}{word}股份有限公司" if r < 0.9 else f"{prefix}{brand}集团有限公司")
                        key = normalize_company_name(company)
                        if key not in used_keys:
                            break
                    used_keys.add(key)
                    unit = units[_pick(rng, _OWNER_BY_CHAIN[code])]
                    people = staff.get(unit.id) or []
                    status = _pick(rng, _STATUS_WEIGHTS)
                    if kind == "gap" and status == TargetStatus.CONTACTED and rng.random() < 0.4:
                        status = TargetStatus.NOT_CONTACTED
                    if status == TargetStatus.DROPPED:
                        note += "；" + rng.choice(data.TARGET_DROP_REASONS)
                    target.company_name, target.company_key = company, key
                    target.uscc = make_uscc(rng, region) if rng.random() < 0.7 else None
                    target.location = location
                    target.unit_id = unit.id
                    target.officer_id = rng.choice(people).id if people and rng.random() < 0.85 else None
                    target.status = status.value
                    updated = created if status == TargetStatus.NOT_CONTACTED else \
                        min(today, created + timedelta(days=rng.randint(10, 200)))
                target.note = note
                target_keys.add(target.company_key)
                target.created_at, target.updated_at = _at(created, 9), _at(max(created, updated), 15)
                objects.append(target)
    db.session.add_all(objects)
    db.session.flush()
    return {"firms": sum(isinstance(o, LocalEnterprise) for o in objects),
            "targets": sum(isinstance(o, Target) for o in objects)}

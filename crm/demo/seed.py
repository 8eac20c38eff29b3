"""`crm seed-demo`: a believable county (将乐县) built from crm.demo.data and crm.demo.generate."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select

from crm import clock
from crm.audit.listener import set_actor
from crm.auth.models import Unit, User
from crm.chains.models import Chain, ChainNode
from crm.demo import data
from crm.demo.bulletins import seed_bulletins
from crm.demo.chains import describe_chains, leave_chain_gaps, seed_chains
from crm.demo.decisions import seed_decisions
from crm.demo.generate import generate_leads
from crm.demo.papers import seed_papers
from crm.demo.screening import seed_screening
from crm.dashboard import stage_dates
from crm.demo.tracking import run_the_nights, seed_tracking
from crm.extensions import db
from crm.leads.models import Lead, LeadActivity, LeadStageChange, Source, normalize_company_name

DEMO_PASSWORD = "demo-2026"
_CST = timezone(timedelta(hours=8))


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=_CST).astimezone(timezone.utc)


def _dec(value):
    return None if value is None else Decimal(str(value))


def seed_demo(leads: int = 3000, seed: int = 2026, today: date | None = None) -> dict | None:
    """Create the demo county in an empty database and commit; None if users exist already."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return None
    today = today or clock.today()
    units = {u["name"]: Unit(name=u["name"], kind=u["kind"]) for u in data.UNITS}
    db.session.add_all(units.values())
    users = {}
    for spec in data.DEMO_USERS:
        user = User(username=spec["username"], full_name=spec["full_name"], unit=units[spec["unit"]])
        user.set_password(DEMO_PASSWORD)
        user.roles = spec["roles"]
        users[spec["username"]] = user
    # One hash for everyone is enough for a demo and saves seconds of PBKDF2.
    shared_hash = users["admin"].password_hash
    for user in users.values():
        user.password_hash = shared_hash
    db.session.add_all(users.values())
    db.session.flush()
    set_actor(users["admin"].id)
    try:
        chains, nodes = {}, {}
        for position, spec in enumerate(data.CHAINS):
            chain = Chain(code=spec["code"], name=spec["name"], position=position)
            chain.nodes = [ChainNode(name=n["name"], tier=n["tier"], position=i)
                           for i, n in enumerate(spec["nodes"])]
            chains[spec["code"]] = chain
            nodes.update({(spec["code"], n.name): n for n in chain.nodes})
        describe_chains(chains)
        db.session.add_all(chains.values())
        sources = {s["name"]: Source(name=s["name"], kind=s["kind"]) for s in data.SOURCES}
        db.session.add_all(sources.values())
        db.session.flush()
        rows = generate_leads(leads, seed=seed, today=today)
        leave_chain_gaps(rows)
        for i, row in enumerate(rows):
            db.session.add(_lead_from_row(row, units, users, chains, nodes, sources))
            if i % 500 == 499:
                db.session.flush()
        db.session.flush()
        seed_screening(units, users, chains, today, seed)
        db.session.flush()
        seed_decisions(users, today, seed)
        seed_chains(nodes, units, users, today, seed)
        seed_papers()
        seed_tracking(units, users, today, seed)
        run_the_nights(users, today, seed)
        db.session.flush()
        stage_dates.rebuild()  # the seeds wrote stage history directly: the cockpit's stage dates
        seed_bulletins(today)  # the last three months' 督查通报, as the monthly job made them
        db.session.commit()
    finally:
        set_actor(None)
    return {"password": DEMO_PASSWORD,
            "users": [(u["username"], u["roles"], u["unit"]) for u in data.DEMO_USERS]}


def _lead_from_row(row, units, users, chains, nodes, sources) -> Lead:
    officer = users[row["officer"]]
    history = row["stage_history"]
    last_day = max([d for _s, d in history] + [a["occurred_on"] for a in row["activities"]])
    lead = Lead(
        company_name=row["company_name"], company_key=normalize_company_name(row["company_name"]),
        uscc=row["uscc"], project_name=row["project_name"],
        chain=chains.get(row["industry"]), chain_node=nodes.get((row["industry"], row["chain_node"])),
        source=sources.get(row["source_name"]), source_kind=row["source_kind"],
        origin_region=row["origin_region"],
        planned_investment_wan=_dec(row["planned_investment_wan"]),
        fixed_asset_investment_wan=_dec(row["fixed_asset_investment_wan"]),
        land_area_mu=_dec(row["land_area_mu"]), expected_output_wan=_dec(row["expected_output_wan"]),
        expected_tax_wan=_dec(row["expected_tax_wan"]), high_tech=row["high_tech"],
        specialized=row["specialized"], patents=row["patents"], rd_ratio=_dec(row["rd_ratio"]),
        jobs=row["jobs"], owner_unit=units[row["owner_unit"]], owner=officer, stage=row["stage"],
        created_on=row["created_on"], signed_on=row["signed_on"], started_on=row["started_on"],
        lost_reason=row["lost_reason"], created_at=_at(row["created_on"], 9),
        updated_at=_at(last_day, 17), updated_by=officer,
    )
    previous = None
    for stage, day in history:
        lead.stage_changes.append(LeadStageChange(
            from_stage=previous, to_stage=stage, changed_by=officer, changed_at=_at(day, 11),
            reason=row["lost_reason"] if stage == "lost" else None))
        previous = stage
    for activity in row["activities"]:
        lead.activities.append(LeadActivity(
            kind=activity["kind"], occurred_on=activity["occurred_on"], summary=activity["summary"],
            next_follow_up_on=activity["next_follow_up_on"], created_by=officer,
            created_at=_at(activity["occurred_on"], 16)))
    return lead

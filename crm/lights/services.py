"""Recompute lights: write the current light of each project, a history row on each change of
colour, and tell the owner unit (the lead's officer and the unit's team leads) of the change.

Idempotent: recomputing with nothing changed writes nothing but the computation time. A project
that is no longer lit (terminated, or finished at 上规) loses its current light; its history stays.
The first light of a project is history too, but only a first yellow or red is announced.
Writes in bulk (a few statements whatever the number of projects); flushes, never commits."""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select, update

from crm import clock
from crm.bulk import bulk_insert
from crm.extensions import db
from crm.leads.models import Lead
from crm.lights.models import Colour, LightChange, ProjectLight
from crm.lights.queries import gather_facts
from crm.lights.rules import LIT_STAGES, evaluate
from crm.tracking.settings import peek_settings


def project_path(lead_id: int) -> str:
    return f"/projects/{lead_id}"


def recompute(lead_id: int, today: date | None = None) -> dict:
    """One project's light (after any change of its facts)."""
    return _recompute(today or clock.today(), [lead_id])


def recompute_many(lead_ids, today: date | None = None) -> dict:
    """Several projects at once (the signal receivers' batch before a commit)."""
    return _recompute(today or clock.today(), list(lead_ids))


def recompute_all(today: date | None = None) -> dict:
    """Every lit project's light (the nightly job): time alone turns lights yellow and red."""
    return _recompute(today or clock.today(), None)


def _recompute(today: date, lead_ids: list[int] | None) -> dict:
    settings = peek_settings()
    facts = gather_facts(today, lead_ids)
    now = clock.now()
    scope = ProjectLight.lead_id.in_(lead_ids) if lead_ids is not None else None
    existing = {lead_id: (colour, reasons) for lead_id, colour, reasons in db.session.execute(
        select(ProjectLight.lead_id, ProjectLight.colour, ProjectLight.reasons)
        .where(*([scope] if scope is not None else [])))}

    inserts, updates, changes = [], [], []
    for lead_id, project in facts.items():
        colour, reasons = evaluate(project, settings, today)
        if colour is None:
            continue
        old = existing.get(lead_id)
        if old is None:
            inserts.append({"lead_id": lead_id, "colour": colour, "reasons": reasons, "since": today,
                            "computed_at": now})
        elif old[0] != colour:
            updates.append({"lead_id": lead_id, "colour": colour, "reasons": reasons, "since": today})
        elif old[1] != reasons:
            updates.append({"lead_id": lead_id, "reasons": reasons})
        if old is None or old[0] != colour:
            changes.append({"lead_id": lead_id, "from_colour": old[0] if old else None, "to_colour": colour,
                            "reasons": reasons, "changed_on": today, "changed_at": now})

    # Projects no longer lit lose their current light (their history stays).
    lit = select(Lead.id).where(Lead.stage.in_([s.value for s in LIT_STAGES]))
    cleared = db.session.execute(
        delete(ProjectLight).where(*([scope] if scope is not None else []), ProjectLight.lead_id.not_in(lit))
        .execution_options(synchronize_session=False)).rowcount or 0
    _insert_lights(inserts)
    # ORM bulk UPDATE by primary key: one executemany per shape of row (so grouped by shape).
    for shape in ({"lead_id", "colour", "reasons", "since"}, {"lead_id", "reasons"}):
        rows = [row for row in updates if set(row) == shape]
        if rows:
            db.session.execute(update(ProjectLight), rows)
    db.session.execute(update(ProjectLight).where(*([scope] if scope is not None else []))
                       .values(computed_at=now).execution_options(synchronize_session=False))
    bulk_insert(db.session, LightChange.__table__, changes)
    _announce(changes)
    db.session.flush()
    _forget_loaded_lights()
    return {"lit": len(facts), "new": len(inserts), "changed": sum(1 for c in changes if c["from_colour"]),
            "cleared": cleared}


def _insert_lights(rows: list[dict]) -> None:
    """New current lights. A request's batch and the nightly run may light the same new project at
    the same moment: the later insert updates the row instead of failing the user's save."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        bulk_insert(db.session, ProjectLight.__table__, rows)
        return
    statement = insert(ProjectLight.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["lead_id"],
        set_={c: statement.excluded[c] for c in ("colour", "reasons", "since", "computed_at")})
    db.session.execute(statement, rows)


def _announce(changes: list[dict]) -> None:
    """Tell the owner officer and the unit's team leads of each change (not of a first green)."""
    from crm.notifications.services import notify_many, unit_users_with_role

    wanted = [c for c in changes if not (c["from_colour"] is None and c["to_colour"] == Colour.GREEN.value)]
    if not wanted:
        return
    leads = {}
    ids = [c["lead_id"] for c in wanted]
    for start in range(0, len(ids), 1000):
        for row in db.session.execute(select(Lead.id, Lead.owner_id, Lead.owner_unit_id, Lead.company_name,
                                             Lead.project_name).where(Lead.id.in_(ids[start:start + 1000]))):
            leads[row.id] = row
    team_leads = unit_users_with_role({row.owner_unit_id for row in leads.values()}, "team_lead")
    items = []
    for change in wanted:
        lead = leads[change["lead_id"]]
        users = set(team_leads.get(lead.owner_unit_id, []))
        if lead.owner_id:
            users.add(lead.owner_id)
        params = {"company": lead.project_name or lead.company_name, "count": len(change["reasons"])}
        items.append((users, f"light_{change['to_colour']}", params, project_path(lead.id)))
    notify_many(items)


def _forget_loaded_lights() -> None:
    """Bulk statements bypass the identity map: reload lights already loaded in this session."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, ProjectLight):
            db.session.expire(obj)

"""The letter job at county scale: 20,000 tracked projects on PostgreSQL (CRM_TEST_POSTGRES), the
due letters found in a few queries and the night's letters written within seconds."""
from __future__ import annotations

import os
import random
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, insert, select

from crm.extensions import db
from crm.leads.models import Lead
from crm.letters.jobs import write_due_letters
from crm.letters.models import Letter
from crm.letters.triggers import due_letters
from crm.lights.models import ProjectLight
from crm.tracking.models import MilestonePlan
from crm.tracking.settings import peek_settings
from tests import factories

pytestmark = pytest.mark.skipif(not os.environ.get("CRM_TEST_POSTGRES"), reason="a PostgreSQL scale test")
PROJECTS = 20_000
TODAY = date(2025, 6, 10)
# A usual night: the plans that reach 30 days ahead or 15 days overdue today (about 1 in 20); the others later.
USUAL = [30, -15] + list(range(40, 800, 20))


def _county(first_night: bool):
    rng = random.Random(15)
    units = [factories.unit(f"规模测试镇{n}") for n in range(20)]
    officers = [factories.user(unit_=unit) for unit in units]
    stages = ["admitted", "signed", "signed", "started", "completed", "producing"]
    rows = []
    for n in range(PROJECTS):
        k = rng.randrange(20)
        rows.append({"company_name": f"规模测试企业{n}", "company_key": f"规模测试企业{n}", "owner_unit_id": units[k].id,
                     "owner_id": officers[k].id, "stage": rng.choice(stages), "created_on": date(2024, 1, 1)})
    ids = db.session.scalars(insert(Lead).returning(Lead.id), rows).all()
    # The first night finds plans long overdue everywhere; a usual night only today's.
    spread = 400 if first_night else 1
    plans = []
    for lead_id in ids:
        for milestone in ("start", "produce"):
            offset = rng.randrange(-spread, spread + 1) if first_night else rng.choice(USUAL)
            plans.append({"lead_id": lead_id, "milestone": milestone, "planned_on": TODAY + timedelta(days=offset)})
    db.session.execute(insert(MilestonePlan), plans)
    lights = [{"lead_id": lead_id, "colour": "red" if rng.random() < 0.05 else "green", "since": TODAY,
               "reasons": [{"code": "milestone_late", "colour": "red", "params": {}}]} for lead_id in ids]
    db.session.execute(insert(ProjectLight), lights)
    db.session.flush()


@pytest.mark.parametrize("first_night", [False, True])
def test_twenty_thousand_projects(app, db_session, clock_at, first_night):
    _county(first_night)
    clock_at("2025-06-10T01:30:00+08:00")
    with app.app_context():
        started = time.perf_counter()
        due = due_letters(TODAY, peek_settings())
        found = time.perf_counter() - started
        started = time.perf_counter()
        result = write_due_letters()
        total = time.perf_counter() - started
        written = db.session.scalar(select(func.count()).select_from(Letter))
    print(f"\n{PROJECTS} projects, first night {first_night}: {len(due)} due found in {found:.2f} s; "
          f"{written} written in {total:.2f} s")
    assert result["written"] == written == len(due)
    assert found < 10
    assert total < (10 if not first_night else 60)

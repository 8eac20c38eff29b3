"""The cockpit's sections computed side by side (crm.dashboard.parallel): the same figures as one
after the other, each thread on its own connection, errors reaching the request, and every
connection given back. Committed data: each thread reads through its own connection."""
from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from crm.dashboard.period import Period
from crm.dashboard.scope import Scope
from crm.dashboard.sections import Context, Section, compute_all, register_section, sections
from crm.extensions import db
from tests import factories

TODAY = date(2026, 6, 15)


@pytest.fixture()
def county(app, committed, clock_at):
    clock_at("2026-06-15T10:00:00+08:00")
    town = factories.unit("古镛镇")
    for number, stage in enumerate(("negotiating", "admitted", "signed", "started")):
        lead = factories.lead(unit_=town, owner=factories.user(unit_=town), company_name=f"将乐县测试企业{number}",
                              planned_investment_wan=Decimal(10000 + number))
        lead.created_on = date(2026, 2, 1)
        lead.stage = stage
        db.session.flush()
        if stage != "negotiating":
            factories.stage_reached(lead, "admitted", date(2026, 3, 1))
        if stage in ("signed", "started"):
            factories.stage_reached(lead, "signed", date(2026, 4, 1))
    db.session.commit()
    return town


@pytest.fixture()
def workers(app):
    def set_workers(count):
        app.config["DASHBOARD_WORKERS"] = count
    yield set_workers
    app.config.pop("DASHBOARD_WORKERS", None)


@pytest.fixture()
def extra_sections(app):
    """Sections a test adds for itself, taken out again afterwards."""
    before = list(app.extensions["dashboard_sections"])
    yield lambda section: register_section(app, section)
    app.extensions["dashboard_sections"][:] = before


def context(unit=None) -> Context:
    year = Period("year", date(2026, 1, 1), date(2026, 12, 31))
    scope = Scope(unit_id=unit.id if unit else None, unit_name=unit.name if unit else None)
    return Context(period=year, scope=scope, today=TODAY)


def test_side_by_side_gives_the_figures_of_one_after_the_other(app, county, workers):
    results = {}
    for count in (1, 4):
        workers(count)
        with app.test_request_context("/dashboard"):
            results[count] = (compute_all(context()), compute_all(context(county)))
    assert results[4] == results[1]
    headline = results[4][1]["headline"]
    assert headline  # the town's own figures were computed, not an empty dict
    assert [s.key for s in sections()] == list(results[4][0])


def test_each_section_runs_in_its_own_thread_on_its_own_connection(app, county, workers, extra_sections):
    # Both sections wait for each other: computed one after the other, the first would wait in vain.
    meeting = threading.Barrier(2, timeout=10)
    seen = []

    def meet(ctx):
        seen.append((threading.get_ident(), id(db.session.connection().connection.dbapi_connection)))
        meeting.wait()
        return {"met": True}

    extra_sections(Section("meet_a", "dashboard/_screening.html", meet, order=1))
    extra_sections(Section("meet_b", "dashboard/_screening.html", meet, order=2))
    workers(2)
    with app.test_request_context("/dashboard"):
        out = compute_all(context(), only={"meet_a", "meet_b"})
        request_thread = threading.get_ident()
    assert out == {"meet_a": {"met": True}, "meet_b": {"met": True}}
    threads, connections = {t for t, _ in seen}, {c for _, c in seen}
    assert len(threads) == 2 and request_thread not in threads
    assert len(connections) == 2


def test_a_failing_section_fails_the_request_and_every_connection_goes_back(app, county, workers, extra_sections):
    def broken(ctx):
        raise RuntimeError("figure failed")

    extra_sections(Section("broken", "dashboard/_screening.html", broken, order=1))
    workers(4)
    checked_out = db.engine.pool.checkedout()
    with app.test_request_context("/dashboard"):
        with pytest.raises(RuntimeError, match="figure failed"):
            compute_all(context())
    assert db.engine.pool.checkedout() == checked_out


def test_links_and_language_in_the_threads_are_the_requests(app, county, workers):
    """The threads build links under the request's root and speak its language (English here:
    Chinese is the default, so an English label can only come from the request)."""
    out = {}
    for count in (1, 4):
        workers(count)
        with app.test_request_context("/crm/dashboard", base_url="http://x/crm", headers={"Cookie": "lang=en"}):
            out[count] = compute_all(context())
    assert out[4] == out[1]
    first = out[4]["headline"]["figures"][0]
    assert first["label"] == "New leads" and first["url"].startswith("/crm/")


def test_side_by_side_postgresql_adds_no_workers_of_its_own(app, county, workers, extra_sections):
    """The threads already use every core: their statements plan without parallel workers, while
    one after the other the server's own setting holds."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting")

    def setting(ctx):
        return {"workers": db.session.scalar(text("SHOW max_parallel_workers_per_gather"))}

    extra_sections(Section("setting_a", "dashboard/_screening.html", setting, order=1))
    extra_sections(Section("setting_b", "dashboard/_screening.html", setting, order=2))
    with db.engine.connect() as connection:
        server = connection.scalar(text("SHOW max_parallel_workers_per_gather"))
    out = {}
    for count in (2, 1):
        workers(count)
        with app.test_request_context("/dashboard"):
            out[count] = compute_all(context(), only={"setting_a", "setting_b"})
    assert out[2] == {"setting_a": {"workers": "0"}, "setting_b": {"workers": "0"}}
    assert server != "0" and out[1] == {"setting_a": {"workers": server}, "setting_b": {"workers": server}}

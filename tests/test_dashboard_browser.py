"""The cockpit in a real browser: a viewer (督查) logs in, opens /dashboard, the ECharts charts render
on canvas with no console error and no CSP violation, a click on a figure lands on the leads list
filtered to exactly the leads it counted; and the page works on a phone."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_browser import (BIN, CHROMIUM, ROOT, _live_env, _watch,  # noqa: F401
                                browser, live_server)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]

# Three leads of 古镛镇: two signed this year (one of them started), one signed last year. The
# stage_reached rows are written as the projection would. Printed: the names signed this year.
SEED = r'''
from datetime import date
from decimal import Decimal
from sqlalchemy import select
from crm import clock, create_app
from crm.auth.models import User
from crm.extensions import db
from crm.leads.models import StageReached
from crm.leads.services import create_lead

app = create_app()
with app.app_context():
    officer = db.session.scalar(select(User).where(User.username == "gy_officer"))
    today = clock.today()
    first = today.replace(month=1, day=1)
    last_year = date(today.year - 1, 3, 1)
    rows = [("福建金森新材料有限公司", first, today, "started"),
            ("三明海斯福化工有限责任公司", today, None, "signed"),
            ("将乐县竹木加工有限公司", last_year, None, "signed")]
    for name, signed_on, started_on, stage in rows:
        lead = create_lead({"company_name": name, "planned_investment_wan": 30000}, officer.unit, officer,
                           confirmed_duplicate=True)
        lead.stage = stage
        lead.created_on = signed_on
        db.session.flush()
        db.session.add(StageReached(lead_id=lead.id, stage="admitted", reached_on=signed_on, implied=False))
        db.session.add(StageReached(lead_id=lead.id, stage="signed", reached_on=signed_on, implied=False))
        if started_on:
            db.session.add(StageReached(lead_id=lead.id, stage="started", reached_on=started_on, implied=False))
    db.session.commit()
'''


def _run(live_server, *args, **kw):
    return subprocess.run([str(BIN / "crm"), *args], env=_live_env(live_server), cwd=ROOT, check=True,
                          capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def seeded(live_server):
    _run(live_server, "create-user", "dc_viewer", "--role", "viewer", "--unit", "县督查室", "--unit-kind",
         "department", "--full-name", "王督查", "--password-stdin", input="browser-pass-1\n")
    subprocess.run([sys.executable, "-c", SEED], env=_live_env(live_server), cwd=ROOT, check=True,
                   capture_output=True, text=True)
    return live_server


def _login_viewer(page, base):
    page.goto(base + "/dashboard")
    assert "/login" in page.url
    page.fill("#username", "dc_viewer")
    page.fill("#password", "browser-pass-1")
    with page.expect_navigation():
        page.click("[data-testid=login]")


def _charts_drawn(page):
    page.wait_for_function("document.querySelectorAll('.crm-chart[data-rendered] canvas').length >= 3",
                           timeout=15000)
    for testid in ("chart-headline", "chart-rates", "chart-funnel"):
        chart = page.locator(f"[data-testid={testid}]")
        assert chart.locator("canvas").count() >= 1, testid
        box = chart.bounding_box()
        assert box and box["height"] >= 200 and box["width"] > 100, (testid, box)


def test_viewer_sees_the_charts_and_follows_a_figure_to_its_leads(seeded, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = _watch(page)
    csp = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login_viewer(page, seeded)
    if "/dashboard" not in page.url:
        page.goto(seeded + "/dashboard")
    assert "驾驶舱" in page.locator("h1").inner_text()
    _charts_drawn(page)
    signed = page.locator("[data-testid=figure-signed]")
    assert signed.locator("[data-testid=figure-link]").inner_text() == "2"
    assert "首次进入“签约”阶段" in signed.locator("[data-testid=figure-how]").inner_text()
    assert page.locator("[data-testid=rate-landing] [data-testid=rate-value]").inner_text() == "50.0%"
    with page.expect_navigation():
        signed.locator("[data-testid=figure-link]").click()
    assert re.search(r"/leads\?reached=signed&reached_from=\d{4}-01-01&reached_to=\d{4}-12-31$", page.url)
    body = page.locator("main").inner_text()
    assert "福建金森新材料有限公司" in body and "三明海斯福化工有限责任公司" in body
    assert "将乐县竹木加工有限公司" not in body
    assert "2" in page.locator("[data-testid=lead-total]").inner_text()
    assert problems == [] and csp == [], problems + csp
    page.close()


def test_a_chart_click_follows_its_link(seeded, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = _watch(page)
    _login_viewer(page, seeded)
    if "/dashboard" not in page.url:
        page.goto(seeded + "/dashboard")
    _charts_drawn(page)
    # The rates chart (horizontal bars): the first bar is 签约率, 100% — click its middle.
    chart = page.locator("[data-testid=chart-rates]")
    target = page.evaluate("""() => {
        const el = document.querySelector('[data-testid=chart-rates]');
        const c = echarts.getInstanceByDom(el);
        const p = c.convertToPixel({seriesIndex: 0}, [50, 0]);
        return {x: p[0], y: p[1]};
    }""")
    with page.expect_navigation():
        chart.click(position=target)
    assert "reached=admitted" in page.url
    assert problems == [], problems
    page.close()


def test_every_chart_type_draws_without_errors(seeded, browser):
    """bar, hbar, line, pie and funnel, with named series, a null value and links — drawn by
    charts.js into elements made like the macro's (no style attribute anywhere)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = _watch(page)
    csp = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login_viewer(page, seeded)
    if "/dashboard" not in page.url:
        page.goto(seeded + "/dashboard")
    _charts_drawn(page)
    drawn = page.evaluate("""() => {
        const out = {};
        for (const type of ['bar', 'hbar', 'line', 'pie', 'funnel']) {
            const el = document.createElement('div');
            el.className = 'crm-chart';
            el.setAttribute('data-height', '220');
            el.setAttribute('data-chart', JSON.stringify({type: type, unit: type === 'line' ? '%' : '',
                categories: ['甲', '乙', '丙'], links: ['/leads', null, '/projects'],
                series: [{name: '本期', data: [3, null, 5]}, {name: '上年同期', data: [1, 2, 4]}]}));
            document.querySelector('main').appendChild(el);
            const chart = window.crmCharts.draw(el);
            out[type] = {canvas: el.querySelectorAll('canvas').length, height: el.getBoundingClientRect().height,
                         series: chart.getOption().series.length, styled: el.hasAttribute('style') &&
                         el.getAttribute('style').includes('height: 220px')};
        }
        return out;
    }""")
    for type_, got in drawn.items():
        assert got["canvas"] >= 1 and got["height"] == 220, (type_, got)
    assert drawn["bar"]["series"] == 2 and drawn["pie"]["series"] == 1
    assert problems == [] and csp == [], problems + csp
    page.close()


def test_the_cockpit_on_a_phone(seeded, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    problems = _watch(page)
    _login_viewer(page, seeded)
    if "/dashboard" not in page.url:
        page.goto(seeded + "/dashboard")
    _charts_drawn(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width  # no sideways scrolling: the grid stacks
    assert page.locator("[data-testid=figure-signed]").is_visible()
    assert problems == [], problems
    page.close()

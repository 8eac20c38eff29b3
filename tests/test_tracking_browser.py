"""After admission, in a real browser: an officer records a start with evidence and the light
turns green; a late start shows yellow with its reason; the nightly letter job (run by the live
server's own worker) writes a 交办函; the responsible unit acknowledges it and replies."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_browser import (BIN, CHROMIUM, ROOT, _live_env, _login, _watch,  # noqa: F401
                                browser, live_server)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")

# Two signed projects of 古镛镇 (the officer's town): one whose start is planned in five days, one
# whose start was planned sixteen days ago and has not happened (a late milestone). Printed: ids.
SEED = r'''
from datetime import timedelta
from sqlalchemy import select
from crm import clock, create_app
from crm.auth.models import User
from crm.extensions import db
from crm.leads.services import create_lead
from crm.tracking import services

app = create_app()
with app.app_context():
    officer = db.session.scalar(select(User).where(User.username == "gy_officer"))
    today = clock.today()
    ids = []
    for name, project, start in (("福建金森新材料有限公司", "年产3万吨竹基复合材料项目", 5),
                                 ("三明海斯福化工有限责任公司", "含氟精细化学品扩建项目", -16)):
        lead = create_lead({"company_name": name, "project_name": project, "land_area_mu": 80,
                            "fixed_asset_investment_wan": 26000}, officer.unit, officer, confirmed_duplicate=True)
        lead.stage = "admitted"
        db.session.flush()
        services.save_agreement(lead, {"total_investment_wan": 30000, "fixed_asset_investment_wan": 26000,
                                       "land_area_mu": 80}, officer,
                                plans={"sign": today - timedelta(days=60), "start": today + timedelta(days=start),
                                       "complete": today + timedelta(days=start + 400),
                                       "produce": today + timedelta(days=start + 500)})
        services.record_actual(lead, "sign", today - timedelta(days=58), officer)
        ids.append(lead.id)
    db.session.commit()
    print(*ids)
'''

ENQUEUE_LETTERS = r'''
from crm import create_app
from crm.queue import get_queue
app = create_app()
with app.app_context():
    get_queue("quick").enqueue("crm.letters.jobs.write_due_letters")
'''


def _python(live_server, code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=_live_env(live_server), cwd=ROOT, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def test_start_with_evidence_late_start_and_the_assignment_letter(live_server, browser, tmp_path):
    on_time, late = _python(live_server, SEED).split()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = _watch(page)
    _login(page, live_server)

    # The project page of the project starting on time: green, 签约 recorded.
    page.goto(f"{live_server}/projects/{on_time}")
    assert page.locator("[data-testid=project-light]").inner_text().startswith("绿灯")
    assert page.locator("[data-testid=project-stage]").inner_text() == "签约"

    # The officer records the actual start, then adds the construction permit as evidence.
    page.click("text=登记实际日期")
    page.select_option("#actual-milestone", "start")
    page.fill("#actual-actual_on", page.evaluate("new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)"))
    page.fill("#actual-note", "桩基工程开工")
    with page.expect_navigation():
        page.click("[data-testid=actual-form] button[type=submit]")
    assert page.locator("[data-testid=project-stage]").inner_text() == "开工"
    start_row = page.locator("[data-testid=milestone-start]")
    assert start_row.locator("[data-testid=actual]").is_visible()
    start_row.locator("[data-testid=upload-details] summary").click()
    pdf = tmp_path / "施工许可证.pdf"
    pdf.write_bytes(PDF)
    start_row.locator("[data-testid=upload-file]").set_input_files(str(pdf))
    with page.expect_navigation():
        start_row.locator("[data-testid=upload-submit]").click()
    start_row = page.locator("[data-testid=milestone-start]")
    assert start_row.locator("[data-testid=attachment-link]").inner_text() == "施工许可证.pdf"
    assert page.locator("[data-testid=project-light]").inner_text().startswith("绿灯")

    # The late project: yellow, and the reason says which milestone and by how much.
    page.goto(f"{live_server}/projects/{late}")
    assert page.locator("[data-testid=project-light]").inner_text().startswith("黄灯")
    assert re.search(r"开工.*已逾期 16 天", page.locator("[data-testid=light-reasons]").inner_text())

    # The nightly letter job, on the live server's worker: a 交办函 for the late start.
    _python(live_server, ENQUEUE_LETTERS)
    letters = page.locator("[data-testid=project-letters]")
    for _ in range(60):
        page.goto(f"{live_server}/projects/{late}")
        if letters.count() and "交办函" in letters.inner_text():
            break
        page.wait_for_timeout(500)
    assert "交办函" in letters.inner_text()
    with page.expect_navigation():
        letters.locator("a", has_text="〔").first.click()
    assert "交办函" in page.locator("h1").inner_text()

    # The responsible unit (the officer's own town) acknowledges it and replies with its progress.
    with page.expect_navigation():
        page.click("[data-testid=acknowledge-form] [type=submit]")
    assert "陈志强" in page.locator("[data-testid=acknowledged]").inner_text()
    page.fill("#reply", "已与企业会商，施工许可证已取得，计划下周进场施工。")
    with page.expect_navigation():
        page.click("[data-testid=reply-form] [type=submit]")
    assert "计划下周进场施工" in page.locator("[data-testid=reply]").inner_text()
    assert page.locator("[data-testid=acknowledge-form]").count() == 0
    assert problems == [], problems
    page.close()

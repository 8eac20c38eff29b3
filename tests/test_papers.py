"""Official papers (GB/T 9704): the Word files, the printable pages, the issuer settings and the
document numbers (unique per kind and year, never reused, one per subject)."""
from __future__ import annotations

import io
import re
import threading
from datetime import date, datetime, time, timedelta, timezone

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import func, select

from crm.decisions.models import AgendaItem, Attendee, Meeting, Vote
from crm.extensions import db
from crm.papers import services
from crm.papers.docx import OfficialPaper, title_lines
from crm.papers.models import DocumentNumber, PaperSettings
from crm.screening.models import CaseUnit, ScreeningCase, ScreeningOpinion
from tests import factories

CLOSED = datetime(2026, 12, 5, 2, 0, tzinfo=timezone.utc)  # 10:00 in the county, 2026年12月5日
JIANGLE = {"notice_issuer": "将乐县招商服务中心", "minutes_issuer": "将乐县招商引资工作领导小组办公室",
           "notice_prefix": "将招初审", "minutes_prefix": "将招纪要"}
EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|@font-face|url\(\s*["']?(?:https?:)?//""", re.I)


# --- helpers ------------------------------------------------------------------------------------

def _closed_case(lead=None, closed_at=CLOSED, materials=True) -> ScreeningCase:
    fagai, _s1 = factories.member_unit("县发改局")
    ziran, _s2 = factories.member_unit("县自然资源局")
    lead = lead or factories.negotiating_lead(company_name="福建永盛铝业有限公司", project_name="年产5万吨高端铝型材项目")
    items = [{"item": "项目可行性研究报告", "units": ["县发改局", "县自然资源局"]},
             {"item": "节能评估（能耗测算）材料", "units": ["县发改局"]}] if materials else []
    case = ScreeningCase(lead_id=lead.id, round=1, submitted_at=closed_at - timedelta(days=2), status="closed",
                         result="conditional", closed_at=closed_at, notice_items=items)
    case.units = [CaseUnit(unit_id=fagai.id, position=0), CaseUnit(unit_id=ziran.id, position=1)]
    db.session.add(case)
    db.session.flush()
    db.session.add(ScreeningOpinion(case_id=case.id, unit_id=fagai.id, version=1, verdict="conditional",
                                    conditions="固定资产投资强度须不低于300万元/亩。", submitted_at=closed_at,
                                    materials=[], rating_scale=4, rating_intensity=4, rating_tech=4,
                                    rating_prospects=4, rating_compliance=4))
    db.session.flush()
    return case


def _meeting(status="closed") -> Meeting:
    leaders = [factories.user(roles=("leader",), full_name=n) for n in ("王建国", "李明", "张华", "刘芳", "陈强", "赵敏")]
    titles = ["县委书记、组长", "县长、副组长", "常务副县长", "副县长", "县发改局局长", "县自然资源局局长"]
    meeting = Meeting(title="2026年第12次招商引资项目集体决策会", meeting_on=date(2026, 12, 5), start_time=time(9, 30),
                      location="县行政服务中心三楼会议室", recorder="林晓", observers="县招商服务中心主任 周涛\n县财政局副局长 吴丽",
                      status=status, chair_id=leaders[0].id, member_count=6,
                      opened_at=CLOSED - timedelta(hours=1), closed_at=CLOSED if status == "closed" else None)
    meeting.attendees = [Attendee(user_id=u.id, title=t, position=i, present=i != 3,
                                  absence_reason="business_trip" if i == 3 else None,
                                  absence_note="赴上海招商" if i == 3 else None)
                         for i, (u, t) in enumerate(zip(leaders, titles))]
    db.session.add(meeting)
    db.session.flush()
    lead = factories.negotiating_lead(company_name="福建永盛铝业有限公司", project_name="年产5万吨高端铝型材项目")
    decided = status == "closed"
    item = AgendaItem(meeting_id=meeting.id, lead_id=lead.id, position=0, status="closed" if decided else "open",
                      result="passed" if decided else None, members=6, present=5, recused=1, approve=3, reject=0,
                      abstain=0, not_voted=1, conditions="项目须于2027年6月30日前开工。" if decided else None)
    db.session.add(item)
    db.session.flush()
    for user, choice, reason in ((leaders[1], "approve", None), (leaders[2], "approve", None),
                                 (leaders[4], "recuse", "本人亲属在该企业任职"), (leaders[5], "not_voted", None),
                                 (leaders[0], "approve", None)):
        db.session.add(Vote(item_id=item.id, user_id=user.id, choice=choice, reason=reason))
    other = factories.negotiating_lead(company_name="三明市绿源生物科技有限公司")
    db.session.add(AgendaItem(meeting_id=meeting.id, lead_id=other.id, position=1,
                              status="deferred" if decided else "open"))
    db.session.flush()
    return meeting


def _set_issuers() -> None:
    services.save_settings(JIANGLE)


def _reader(make_client, roles=("admin",)):
    c = make_client()
    c.login(factories.user(roles=roles))
    return c


def _east_asia(element) -> str | None:
    fonts = element.find(qn("w:rPr") + "/" + qn("w:rFonts")) if element.tag != qn("w:rPr") else element.find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def _docx(response) -> Document:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.data[:2] == b"PK"
    return Document(io.BytesIO(response.data))


def _all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _assert_gb9704_page(doc) -> None:
    section = doc.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert (round(section.top_margin.mm), round(section.bottom_margin.mm),
            round(section.left_margin.mm), round(section.right_margin.mm)) == (37, 35, 28, 26)
    normal = doc.styles["Normal"]
    assert _east_asia(normal.element) == "仿宋_GB2312"
    assert normal.font.size.pt == 16
    assert normal.paragraph_format.line_spacing.pt == pytest.approx(28.95, abs=0.05)
    defaults = doc.styles.element.find(qn("w:docDefaults") + "/" + qn("w:rPrDefault") + "/" + qn("w:rPr"))
    assert _east_asia(defaults) == "仿宋_GB2312"
    for name in ("Title", "Heading 1", "Heading 2"):
        rpr = doc.styles[name].element.rPr
        fonts = rpr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:asciiTheme")) is None and fonts.get(qn("w:eastAsiaTheme")) is None
        assert doc.styles[name].font.color.rgb in (None, (0, 0, 0))  # no blue Calibri headings
    footer = section.footer._element.xml
    assert "PAGE" in footer and "—" in footer


def _title_run(doc):
    return next(r for p in doc.paragraphs if p.style.name == "Title" for r in p.runs if r.text.strip())


# --- the builder --------------------------------------------------------------------------------

def test_the_builder_lays_out_an_a4_official_paper():
    paper = OfficialPaper("测试")
    paper.header("将乐县招商服务中心", "将招初审〔2026〕1号")
    paper.title("即时初审一次性告知书")
    paper.addressee("福建永盛铝业有限公司")
    paper.para("正文。")
    paper.table(["序号", "材料", "提出单位"], [["1", "项目可行性研究报告", "县发改局"]], [16, 86, 54])
    paper.sign("将乐县招商服务中心", "2026年12月5日")
    buffer = io.BytesIO()
    paper.save(buffer)
    doc = Document(io.BytesIO(buffer.getvalue()))
    _assert_gb9704_page(doc)
    title = _title_run(doc)
    assert _east_asia(title._r) == "方正小标宋简体" and title.font.size.pt == 22
    body = next(p for p in doc.paragraphs if p.text == "正文。")
    assert _east_asia(body.runs[0]._r) == "仿宋_GB2312" and body.paragraph_format.first_line_indent.pt == 32
    cell_run = doc.tables[0].rows[1].cells[1].paragraphs[0].runs[0]
    assert _east_asia(cell_run._r) == "仿宋_GB2312"
    assert [p.text for p in doc.paragraphs][-2:] == ["将乐县招商服务中心", "2026年12月5日"]
    assert all(p.alignment == 2 for p in doc.paragraphs[-2:])  # right-aligned


def test_long_titles_break_into_balanced_lines_without_splitting_numbers():
    assert title_lines("即时初审一次性告知书") == ["即时初审一次性告知书"]
    lines = title_lines("关于福建永盛铝业有限公司年产5万吨高端铝型材项目的会议纪要")
    assert len(lines) == 2 and "".join(lines) == "关于福建永盛铝业有限公司年产5万吨高端铝型材项目的会议纪要"
    assert abs(len(lines[0]) - len(lines[1])) <= 2


def test_cn_date_filter(app):
    from crm.formatting import cn_date

    assert cn_date(date(2026, 12, 5)) == "2026年12月5日" and cn_date(date(2027, 1, 9)) == "2027年1月9日"
    assert app.jinja_env.filters["cn_date"](date(2026, 3, 15)) == "2026年3月15日"


# --- document numbers ---------------------------------------------------------------------------

def test_numbers_run_per_kind_and_year_and_a_subject_keeps_its_own(db_session):
    _set_issuers()
    day = date(2026, 12, 5)
    first = services.number_for("notice", 101, day)
    second = services.number_for("notice", 102, day)
    assert (first.year, first.number, second.number) == (2026, 1, 2)
    assert services.number_for("notice", 101, day).id == first.id  # asked again: the same number
    assert services.number_for("minutes", 101, day).number == 1     # another kind counts apart
    assert services.number_for("notice", 103, date(2027, 1, 4)).number == 1  # a new year starts at 1
    assert services.number_text(second, "notice") == "将招初审〔2026〕2号"


def test_a_number_is_never_reused(db_session):
    day = date(2026, 12, 5)
    services.number_for("notice", 201, day)
    doomed = services.number_for("notice", 202, day)
    db.session.delete(doomed)
    db.session.flush()
    assert services.number_for("notice", 203, day).number == 3


def test_a_given_number_keeps_its_prefix(db_session):
    _set_issuers()
    number = services.number_for("minutes", 301, date(2026, 12, 5))
    services.save_settings({"minutes_prefix": "将纪"})
    assert services.number_text(number, "minutes") == "将招纪要〔2026〕1号"


def test_without_a_prefix_the_number_still_has_brackets(db_session):
    number = services.number_for("notice", 401, date(2026, 12, 5))
    assert services.number_text(number, "notice") == "〔2026〕1号"


def _in_threads(app, calls):
    """Each call in its own thread with its own session and transaction, all started together;
    SQLite as the app runs it (BEGIN IMMEDIATE), PostgreSQL as is (row locks)."""
    from crm.database import _make_engine

    url = app.config["DATABASE_URL"]
    engine = _make_engine(url, sqlite_immediate=True) if url.startswith("sqlite") else db.engine
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(i, kind, subject):
        try:
            with app.app_context():
                db.session.remove()
                db.session(bind=engine)
                barrier.wait(timeout=10)
                row = services.number_for(kind, subject, date(2026, 12, 5))
                results[i] = (row.number, row.subject_id)
                db.session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            db.session.remove()

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if engine is not db.engine:
        engine.dispose()
    assert not errors, errors
    return results


def test_two_requests_at_once_get_two_numbers(app, committed):
    results = _in_threads(app, [("notice", 501), ("notice", 502)])
    assert sorted(n for n, _ in results) == [1, 2]
    rows = committed.scalars(select(DocumentNumber).order_by(DocumentNumber.number)).all()
    assert [(r.number, r.subject_id) for r in rows] == sorted(results)


def test_one_subject_asked_twice_at_once_gets_one_number(app, committed):
    results = _in_threads(app, [("minutes", 601), ("minutes", 601)])
    assert results[0] == results[1] == (1, 601)
    assert committed.scalar(select(func.count()).select_from(DocumentNumber)) == 1
    # the loser's increment was taken back: the next subject gets 2
    results = _in_threads(app, [("minutes", 602)])
    assert results == [(2, 602)]


def test_the_signals_number_a_closed_case_and_meeting(db_session):
    from crm import signals

    case = _closed_case()
    meeting = _meeting()
    signals.screening_case_closed.send(case_id=case.id)
    signals.meeting_closed.send(meeting_id=meeting.id)
    assert services.existing_number("notice", case.id).issued_on == date(2026, 12, 5)
    assert services.existing_number("minutes", meeting.id).number == 1


# --- the notice ---------------------------------------------------------------------------------

def test_the_notice_word_file(make_client, clock_at):
    clock_at("2026-12-07T09:00:00+08:00")
    _set_issuers()
    case = _closed_case()
    doc = _docx(_reader(make_client).get(f"/screening/cases/{case.id}/notice.docx"))
    _assert_gb9704_page(doc)
    title = _title_run(doc)
    assert title.text == "即时初审一次性告知书" and _east_asia(title._r) == "方正小标宋简体"
    text = _all_text(doc)
    assert "将招初审〔2026〕1号" in text
    assert "2026年12月5日" in text and "2026-12-05" not in text  # dated the day the case closed
    assert text.count("将乐县招商服务中心") == 2  # the header and the signature
    assert "福建永盛铝业有限公司：" in text and "年产5万吨高端铝型材项目" in text
    assert "项目可行性研究报告" in text and "县发改局、县自然资源局" in text
    assert "项目 项目" not in text and "项目项目" not in text
    body = next(p for p in doc.paragraphs if "贵单位" in p.text)
    assert all(_east_asia(r._r) == "仿宋_GB2312" for r in body.runs)
    cell = doc.tables[0].rows[1].cells[1].paragraphs[0].runs[0]
    assert _east_asia(cell._r) == "仿宋_GB2312"
    assert doc.paragraphs[-1].text == "2026年12月5日" and doc.paragraphs[-1].alignment == 2


def test_the_notice_page(make_client):
    _set_issuers()
    case = _closed_case()
    page = _reader(make_client).get(f"/screening/cases/{case.id}/notice")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "将招初审〔2026〕1号" in html and "2026年12月5日" in html and html.count("将乐县招商服务中心") >= 2
    assert "即时初审一次性告知书" in html and "项目 项目" not in html
    assert not EXTERNAL_URL.search(html), EXTERNAL_URL.search(html)
    # asked again: the same number
    assert "将招初审〔2026〕1号" in _reader(make_client).get(f"/screening/cases/{case.id}/notice").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(DocumentNumber)) == 1


def test_the_print_css_downloads_no_font(app):
    from pathlib import Path

    css = (Path(app.static_folder) / "css" / "print.css").read_text(encoding="utf-8")
    assert "@font-face" not in css and not re.search(r"url\(", css)
    assert "size: A4" in css and "37mm 26mm 35mm 28mm" in css
    assert "方正小标宋简体" in css and "仿宋_GB2312" in css


def test_without_an_issuer_the_papers_say_so(make_client):
    case = _closed_case()
    admin = _reader(make_client)
    html = admin.get(f"/screening/cases/{case.id}/notice").get_data(as_text=True)
    assert 'data-testid="issuer-missing"' in html and "/papers/settings" in html
    assert "发文机关未设置" in html
    text = _all_text(_docx(admin.get(f"/screening/cases/{case.id}/notice.docx")))
    assert "发文机关未设置" in text


# --- the minutes --------------------------------------------------------------------------------

def test_the_minutes_of_a_closed_meeting(make_client):
    _set_issuers()
    meeting = _meeting()
    reader = _reader(make_client, roles=("leader",))
    doc = _docx(reader.get(f"/decisions/meetings/{meeting.id}/minutes.docx"))
    _assert_gb9704_page(doc)
    text = _all_text(doc)
    title = next(p for p in doc.paragraphs if p.style.name == "Title")
    assert title.text.replace("\n", "") == "2026年第12次招商引资项目集体决策会纪要"
    assert all(_east_asia(r._r) == "方正小标宋简体" for r in title.runs)
    assert "将招纪要〔2026〕1号" in text and text.count("将乐县招商引资工作领导小组办公室") == 2
    for expected in ("时间：2026年12月5日上午9:30", "地点：县行政服务中心三楼会议室", "主持人：王建国（县委书记、组长）",
                     "出席：王建国（县委书记、组长）、李明", "列席：县招商服务中心主任 周涛、县财政局副局长 吴丽",
                     "记录人：林晓", "一、福建永盛铝业有限公司年产5万吨高端铝型材项目",
                     "应到6人，实到5人，回避1人；同意3票，不同意0票，弃权0票，未表决1人。",
                     "同意落地", "项目须于2027年6月30日前开工。", "未决定，转下次会议", "本人亲属在该企业任职"):
        assert expected in text, expected
    assert re.search(r"缺席：刘芳（副县长，\S+：赴上海招商）", text)
    names = [row.cells[0].text for row in doc.tables[0].rows[1:]]
    assert names == ["王建国", "李明", "张华", "刘芳", "陈强", "赵敏"]
    assert "项目 项目" not in text
    page = reader.get(f"/decisions/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert "将招纪要〔2026〕1号" in page and "2026年12月5日" in page and "上午9:30" in page
    assert "记录人" in page and "列席" in page and not EXTERNAL_URL.search(page)


def test_minutes_in_session_are_a_draft_without_a_number(make_client):
    _set_issuers()
    meeting = _meeting(status="open")
    reader = _reader(make_client, roles=("leader",))
    page = reader.get(f"/decisions/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert "草稿" in page and "〔2026〕" not in page
    text = _all_text(_docx(reader.get(f"/decisions/meetings/{meeting.id}/minutes.docx")))
    assert "草稿" in text and "〔2026〕" not in text
    assert db.session.scalar(select(func.count()).select_from(DocumentNumber)) == 0


# --- settings -----------------------------------------------------------------------------------

def test_admins_set_the_issuers_and_others_may_not(make_client):
    admin = _reader(make_client)
    assert admin.get("/papers/settings").status_code == 200
    response = admin.post("/papers/settings", {**JIANGLE})
    assert response.status_code == 302
    settings = db.session.get(PaperSettings, 1)
    db.session.refresh(settings)
    assert settings.notice_issuer == "将乐县招商服务中心" and settings.minutes_prefix == "将招纪要"
    assert admin.post("/papers/settings", {**JIANGLE, "notice_prefix": "将招初审〔2026〕"}).status_code == 400
    officer = _reader(make_client, roles=("officer",))
    assert officer.get("/papers/settings").status_code == 403
    assert officer.post("/papers/settings", {**JIANGLE, "notice_issuer": "x"}).status_code == 403
    from crm.audit.models import AuditEntry

    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.entity_type == "paper_settings")) >= 1


# --- the demo county ----------------------------------------------------------------------------

def test_the_demo_county_issues_numbered_papers(app, db_session, make_client):
    from crm.demo.seed import seed_demo

    with app.app_context():
        assert seed_demo(leads=400, seed=2026, today=date(2026, 3, 2))
        settings = db.session.get(PaperSettings, 1)
        assert settings.notice_issuer == "将乐县招商服务中心" and settings.minutes_prefix == "将招纪要"
        closed_cases = db.session.scalars(select(ScreeningCase).where(ScreeningCase.status == "closed")).all()
        numbers = db.session.scalars(select(DocumentNumber)).all()
        notices = [n for n in numbers if n.kind == "notice"]
        assert closed_cases and len(notices) == len(closed_cases)
        for year in {n.year for n in numbers}:
            for kind in ("notice", "minutes"):
                got = sorted(n.number for n in numbers if n.year == year and n.kind == kind)
                assert got == list(range(1, len(got) + 1))  # consecutive from 1, none twice
        case_id = notices[-1].subject_id
        meeting_id = next((n.subject_id for n in numbers if n.kind == "minutes"), None)
    admin = make_client()
    admin.login(factories.user(roles=("admin",)))
    for url in [f"/screening/cases/{case_id}/notice"] + ([f"/decisions/meetings/{meeting_id}/minutes"] if meeting_id else []):
        html = admin.get(url).get_data(as_text=True)
        assert "〔" in html and "年" in html and "项目 项目" not in html and "项目项目" not in html, url


def test_closing_a_case_numbers_its_notice_at_once(db_session, clock_at):
    """The seam: close_case sends screening_case_closed, and the notice is numbered then."""
    from crm.screening import services as screening

    clock_at("2026-12-05T10:00:00+08:00")
    unit, _screener = factories.member_unit("县发改局")
    lead = factories.negotiating_lead()
    case = screening.submit(lead, lead.owner, [unit.id])
    assert services.existing_number("notice", case.id) is None
    screening.close_case(case, by_deadline=True)
    number = services.existing_number("notice", case.id)
    assert number is not None and number.issued_on == date(2026, 12, 5)

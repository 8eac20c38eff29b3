"""Screening opinions: ratings chosen or absent (未评), materials kept as ticked or typed, and the
materials a returned lead still owes, ticked as supplied when it is resubmitted."""
from __future__ import annotations


import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.screening import services
from crm.screening.models import RATING_DIMENSIONS, ScreeningCase, ScreeningOpinion
from tests import factories

MOMENT = "2024-09-27T10:00:00+08:00"
ENERGY = "节能评估（能耗测算）材料"   # full-width brackets, as offered on the form
DIMS = RATING_DIMENSIONS


# The same county as the workflow tests: two member units, an officer and a lead in negotiation.
from tests.test_screening import county  # noqa: E402,F401  (fixture)


def _case_of(lead) -> ScreeningCase:
    db.session.expire_all()
    return db.session.scalars(select(ScreeningCase).where(ScreeningCase.lead_id == lead.id)
                              .order_by(ScreeningCase.round.desc())).first()


def _open_case(client, county, clock_at, **extra):
    clock_at(MOMENT)
    client.login(county["officer"])
    lead = factories.reload(county["lead"])
    response = client.post(f"/screening/leads/{lead.id}/submit",
                           {"unit_ids": [str(u.id) for u in county["units"]], "version": str(lead.version), **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return _case_of(county["lead"])


def _form(verdict="approve", ratings=None, common=(), other="", comment="", conditions="", version=0):
    data = {"verdict": verdict, "materials_common": list(common), "materials_other": other,
            "comment": comment, "conditions": conditions, "based_on_version": str(version)}
    data.update({f"rating_{d}": "" for d in DIMS})
    data.update({f"rating_{d}": str(v) for d, v in (ratings or {}).items()})
    return data


def _as(make_client, user):
    c = make_client()
    c.login(user)
    return c


def _opinion_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ScreeningOpinion))


# --- ratings ------------------------------------------------------------------------------------

def test_the_form_starts_with_every_rating_not_rated(client, make_client, county, clock_at):
    case = _open_case(client, county, clock_at)
    page = _as(make_client, county["screeners"][0]).get(f"/screening/cases/{case.id}").get_data(as_text=True)
    for d in DIMS:
        select_html = page.split(f'name="rating_{d}"', 1)[1].split("</select>", 1)[0]
        assert '<option selected value="">未评</option>' in select_html
        assert "selected" not in select_html.replace('<option selected value="">', "")


def test_approve_without_ratings_is_recorded_as_not_rated(client, make_client, county, clock_at):
    case = _open_case(client, county, clock_at)
    screener = _as(make_client, county["screeners"][0])
    response = screener.post(f"/screening/cases/{case.id}/opinion", _form(ratings={"tech": 5}))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    opinion = db.session.scalars(select(ScreeningOpinion)).one()
    assert opinion.rating_tech == 5
    assert all(getattr(opinion, f"rating_{d}") is None for d in DIMS if d != "tech")
    page = screener.get(f"/screening/cases/{case.id}").get_data(as_text=True)
    ratings = page.split('data-testid="ratings">', 1)[1].split("</p>", 1)[0]
    assert "科技含量 5/5" in ratings and ratings.count("未评") == 4 and "3/5" not in ratings
    # amending starts from the unit's own choices: tech 5, the rest still not rated
    form = page.split('data-testid="opinion-form"', 1)[1]
    assert '<option selected value="5">5</option>' in form.split('name="rating_tech"', 1)[1].split("</select>")[0]
    assert '<option selected value="">' in form.split('name="rating_scale"', 1)[1].split("</select>")[0]
    api = screener.get(f"/api/v1/screening/cases/{case.id}").get_json()
    assert api["opinions"][0]["ratings"] == {"scale": None, "intensity": None, "tech": 5, "prospects": None,
                                             "compliance": None}


@pytest.mark.parametrize("bad", ["0", "6", "abc", "3.5", "-1"])
def test_a_rating_outside_1_to_5_is_refused_and_nothing_stored(client, make_client, county, clock_at, bad):
    case = _open_case(client, county, clock_at)
    screener = _as(make_client, county["screeners"][0])
    response = screener.post(f"/screening/cases/{case.id}/opinion", _form(ratings={"intensity": bad}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "投资强度：请选择 1 至 5 分，或保持未评。" in page
    assert _opinion_count() == 0


@pytest.mark.parametrize("bad", [0, 6, "abc", 4.5, True, "4"])
def test_the_api_refuses_a_bad_rating_with_its_field(client, make_client, county, clock_at, bad):
    case = _open_case(client, county, clock_at)
    screener = _as(make_client, county["screeners"][0])
    response = screener.post(f"/api/v1/screening/cases/{case.id}/opinions",
                             json={"verdict": "approve", "ratings": {"scale": bad}})
    assert response.status_code == 400
    body = response.get_json()["error"]
    assert "投资规模" in body["message"] and "rating_scale" in body["fields"]
    assert _opinion_count() == 0


def test_the_api_takes_absent_and_null_ratings(client, make_client, county, clock_at):
    case = _open_case(client, county, clock_at)
    screener = _as(make_client, county["screeners"][0])
    response = screener.post(f"/api/v1/screening/cases/{case.id}/opinions",
                             json={"verdict": "approve", "ratings": {"scale": 4, "tech": None}})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["opinion"]["ratings"] == {"scale": 4, "intensity": None, "tech": None,
                                                         "prospects": None, "compliance": None}


def test_the_service_accepts_none_or_1_to_5_only():
    assert services.clean_rating(None, "scale") is None
    assert services.clean_rating(1, "scale") == 1 and services.clean_rating(5, "scale") == 5
    for bad in (0, 6, "3", 2.0, False):
        with pytest.raises(services.ScreeningError):
            services.clean_rating(bad, "scale")


# --- materials ------------------------------------------------------------------------------------

def test_a_ticked_material_comes_back_ticked_with_its_full_width_brackets(client, make_client, county, clock_at):
    case = _open_case(client, county, clock_at)
    screener = _as(make_client, county["screeners"][0])
    response = screener.post(f"/screening/cases/{case.id}/opinion",
                             _form("conditional", common=[ENERGY], conditions="补充能评"))
    assert response.status_code == 302
    assert db.session.scalars(select(ScreeningOpinion)).one().materials == [ENERGY]
    page = screener.get(f"/screening/cases/{case.id}").get_data(as_text=True)
    form = page.split('data-testid="opinion-form"', 1)[1]
    assert _ticked(form, ENERGY)
    other = form.split('name="materials_other"', 1)[1].split("</textarea>", 1)[0]
    assert other.rstrip().endswith(">")  # the "other" box is empty
    # the second unit answers: the case closes; the notice keeps the full-width text
    _as(make_client, county["screeners"][1]).post(f"/screening/cases/{case.id}/opinion", _form())
    closed = _case_of(county["lead"])
    assert closed.status == "closed" and closed.notice_items == [{"item": ENERGY, "units": ["县发改局"]}]
    notice = client.get(f"/screening/cases/{case.id}/notice").get_data(as_text=True)
    assert ENERGY in notice


def _ticked(form_html: str, value: str) -> bool:
    for tag in form_html.split("<input")[1:]:
        tag = tag.split(">", 1)[0]
        if f'value="{value}"' in tag and "checked" in tag:
            return True
    return False


def test_a_typed_item_equal_to_a_common_material_is_stored_as_it(client, make_client, county, clock_at):
    case = _open_case(client, county, clock_at)
    screener = _as(make_client, county["screeners"][0])
    screener.post(f"/screening/cases/{case.id}/opinion",
                  _form("conditional", other="节能评估(能耗测算)材料\n  园区  准入   说明  \n园区准入说明",
                        conditions="x"))
    opinion = db.session.scalars(select(ScreeningOpinion)).one()
    assert opinion.materials == [ENERGY, "园区 准入 说明"]   # typed text kept, whitespace collapsed only
    page = screener.get(f"/screening/cases/{case.id}").get_data(as_text=True)
    form = page.split('data-testid="opinion-form"', 1)[1]
    assert _ticked(form, ENERGY)
    assert "园区 准入 说明" in form.split('name="materials_other"', 1)[1].split("</textarea>", 1)[0]


def test_clean_materials_keeps_text_and_merges_by_key():
    assert services.clean_materials(["  项目可行性研究报告 ", "项目可行性研究报告。", "Ｂ类“说明”材料", "B类说明材料"]) \
        == ["项目可行性研究报告", "Ｂ类“说明”材料"]
    # an older row stored with half-width brackets still finds its tick
    assert services.split_materials(["节能评估(能耗测算)材料", "其他"]) == ([ENERGY], ["其他"])


# --- a returned lead: what is missing, and what was supplied ---------------------------------------

def _return_with_materials(client, make_client, county, clock_at):
    case = _open_case(client, county, clock_at)
    fagai, ziran = county["screeners"]
    _as(make_client, fagai).post(f"/screening/cases/{case.id}/opinion",
                                 _form("conditional", common=[ENERGY, "项目可行性研究报告"], conditions="补材料"))
    _as(make_client, ziran).post(f"/screening/cases/{case.id}/opinion",
                                 _form("conditional", common=["项目可行性研究报告"], other="用地红线图", conditions="x"))
    closed = _case_of(county["lead"])
    assert closed.status == "closed" and factories.reload(county["lead"]).stage == "returned"
    return closed


def test_the_lead_page_of_a_returned_lead_lists_the_missing_materials(client, make_client, county, clock_at):
    _return_with_materials(client, make_client, county, clock_at)
    page = client.get(f"/leads/{county['lead'].id}").get_data(as_text=True)
    block = page.split('data-testid="missing-materials"', 1)[1].split("</ol>", 1)[0]
    assert ENERGY in block and "项目可行性研究报告" in block and "用地红线图" in block
    assert "县发改局、县自然资源局" in block  # the units that asked


def test_resubmitting_records_the_ticked_materials_and_shows_the_rest_as_missing(client, make_client, county,
                                                                                  clock_at):
    first = _return_with_materials(client, make_client, county, clock_at)
    form = client.get(f"/screening/leads/{county['lead'].id}/submit").get_data(as_text=True)
    assert 'name="supplied"' in form and ENERGY in form
    second = _open_case(client, county, clock_at, supplied=[ENERGY, "用地红线图"])
    assert second.round == 2 and second.previous_case_id == first.id
    assert second.supplied_materials == [ENERGY, "用地红线图"]
    page = _as(make_client, county["screeners"][0]).get(f"/screening/cases/{second.id}").get_data(as_text=True)
    report = page.split('data-testid="supplied-report"', 1)[1].split("</ul>", 1)[0]
    assert report.count('data-supplied="yes"') == 2 and report.count('data-supplied="no"') == 1
    missing = report.split('data-supplied="no"', 1)[1].split("</li>", 1)[0]
    assert "项目可行性研究报告" in missing and "未补齐" in missing
    api = client.get(f"/api/v1/screening/cases/{second.id}").get_json()
    assert api["supplied_materials"] == [ENERGY, "用地红线图"]
    assert [(e["item"], e["supplied"]) for e in api["supplied_report"]] == [
        (ENERGY, True), ("项目可行性研究报告", False), ("用地红线图", True)]


def test_a_material_not_in_the_notice_cannot_be_ticked(client, make_client, county, clock_at):
    _return_with_materials(client, make_client, county, clock_at)
    lead = factories.reload(county["lead"])
    response = client.post(f"/screening/leads/{lead.id}/submit",
                           {"unit_ids": [str(u.id) for u in county["units"]], "version": str(lead.version),
                            "supplied": ["伪造的材料"]})
    assert response.status_code == 400
    assert _case_of(county["lead"]).round == 1
    with pytest.raises(services.ScreeningError):
        services.submit(lead, county["officer"], [u.id for u in county["units"]], supplied=["伪造的材料"])


def test_resubmitting_with_nothing_ticked_is_allowed(client, make_client, county, clock_at):
    _return_with_materials(client, make_client, county, clock_at)
    second = _open_case(client, county, clock_at)
    assert second.supplied_materials == []
    assert all(not e["supplied"] for e in second.supplied_report())

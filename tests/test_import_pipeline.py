"""The import holds the pipeline (issue 14, findings 2, 5 and 8): stage moves go through the one
rule, workflow stages are never imported, units are created by administrators for passing rows
only, the historical ledger import is an administrator's, a failed preview stays failed, and
old uploads are deleted."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from crm.auth.models import Unit
from crm.extensions import db
from crm.interchange.models import ImportBatch
from crm.leads.models import Lead, LeadStageChange
from tests import factories
from tests.import_files import HEADERS, row, xlsx

HISTORY_HEADERS = HEADERS + ["签约日期", "开工日期", "终止原因"]


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _upload(client, content, mode="create", unit_id=None, **extra):
    data = {"file": (io.BytesIO(content), "台账.xlsx"), "mode": mode, **extra}
    if unit_id:
        data["unit_id"] = unit_id
    return client.post("/imports/new", data, content_type="multipart/form-data")


def _preview(client, user, content, mode="create", **extra):
    response = _upload(client, content, mode, user.unit_id, **extra)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    batch_id = int(response.location.rsplit("/", 1)[1])
    return client.get(response.location).get_data(as_text=True), batch_id


def _run(client, batch_id, **form):
    from crm.interchange.jobs import run_import_job

    assert client.post(f"/imports/{batch_id}/confirm", form).status_code == 302
    with client.raw.application.app_context():
        return run_import_job(batch_id)


@pytest.fixture()
def officer(client, db_session):
    user = factories.user(roles=["officer"])
    factories.source("上海将乐商会", kind="chamber")
    client.login(user)
    return user


@pytest.fixture()
def admin(client, db_session):
    user = factories.user(roles=["admin"])
    factories.source("上海将乐商会", kind="chamber")
    client.login(user)
    return user


# --- finding 2: the 阶段 column goes through the pipeline ------------------------------------------

def test_upsert_cannot_move_a_lead_from_negotiating_to_admitted(client, officer):
    lead = factories.negotiating_lead(owner=officer, company_name="福建富远铝业有限公司")
    changes = _count(LeadStageChange, LeadStageChange.lead_id == lead.id)
    page, batch_id = _preview(client, officer, xlsx([row(stage="同意落地")]), mode="upsert")
    assert "“同意落地”只能由即时初审或集体决策产生，导入不能设置。" in page
    assert _run(client, batch_id) == "failed"
    lead = factories.reload(lead)
    assert lead.stage == "negotiating"
    assert _count(LeadStageChange, LeadStageChange.lead_id == lead.id) == changes


def test_an_import_cannot_create_a_lead_as_admitted_or_signed(client, officer):
    page, batch_id = _preview(client, officer, xlsx([row(stage="同意落地"), row(name="乙公司", stage="签约")]))
    assert "“同意落地”只能由即时初审或集体决策产生，导入不能设置。" in page
    assert "请由管理员通过历史台账导入" in page
    assert _run(client, batch_id) == "failed"
    assert _count(Lead) == 0


def test_negotiating_for_a_lead_in_screening_is_refused_and_its_case_stays_open(client, officer, clock_at):
    from crm.screening import services as screening
    from crm.screening.models import ScreeningCase

    clock_at("2024-09-27T10:00:00+08:00")
    member, _screener = factories.member_unit()
    lead = factories.negotiating_lead(owner=officer, company_name="福建富远铝业有限公司")
    screening.submit(lead, officer, [member.id])
    page, batch_id = _preview(client, officer, xlsx([row(stage="洽谈")]), mode="upsert")
    assert "该线索正在即时初审" in page
    assert _run(client, batch_id) == "failed"
    assert factories.reload(lead).stage == "screening"
    cases = db.session.scalars(select(ScreeningCase).where(ScreeningCase.lead_id == lead.id)).all()
    assert [c.status for c in cases] == ["open"]


def test_a_hand_move_by_import_writes_the_history_and_runs_the_hooks(client, officer, clock_at):
    """终止 with a reason is a move an officer may make: through change_stage, the open case is withdrawn."""
    from crm.screening import services as screening
    from crm.screening.models import ScreeningCase

    clock_at("2024-09-27T10:00:00+08:00")
    member, _screener = factories.member_unit()
    lead = factories.negotiating_lead(owner=officer, company_name="福建富远铝业有限公司")
    screening.submit(lead, officer, [member.id])
    headers = HEADERS + ["终止原因"]
    _page, batch_id = _preview(client, officer, xlsx([row(stage="终止") + ["投资方放弃"]], headers), mode="upsert")
    assert _run(client, batch_id) == "done"
    lead = factories.reload(lead)
    assert lead.stage == "lost" and lead.lost_reason == "投资方放弃"
    last = lead.stage_changes[-1]
    assert (last.from_stage, last.to_stage, last.reason, last.history) == ("screening", "lost", "投资方放弃", False)
    case = db.session.scalar(select(ScreeningCase).where(ScreeningCase.lead_id == lead.id))
    assert case.status == "withdrawn"
    # The case was withdrawn: putting the lead back into pre-screening is refused.
    response = client.post(f"/imports/{batch_id}/undo", follow_redirects=True)
    assert "不能再撤销" in response.get_data(as_text=True)
    assert factories.reload(lead).stage == "lost"


def test_an_ordinary_import_does_not_write_milestone_dates_without_the_move(client, officer):
    factories.negotiating_lead(owner=officer, company_name="福建富远铝业有限公司")
    headers = HEADERS + ["签约日期"]
    page, _batch_id = _preview(client, officer, xlsx([row(stage="洽谈") + ["2024-05-01"]], headers), mode="upsert")
    assert "该日期只在线索转入“签约”阶段时记录。" in page


# --- finding 5: units -----------------------------------------------------------------------------

def test_a_team_lead_creates_no_unit_for_a_rejected_row(client, db_session):
    # Issue 17: team leads create the units their office's sheet names, by confirming the
    # preview; a row that is not imported still leaves no unit behind (finding 5).
    team_lead = factories.user(roles=["team_lead"])
    factories.source("上海将乐商会", kind="chamber")
    client.login(team_lead)
    content = xlsx([row(stage="同意落地") + ["探针伪造局"]], HEADERS + ["责任单位"])
    page, batch_id = _preview(client, team_lead, content)
    assert 'data-testid="new-references"' not in page
    _run(client, batch_id, valid_rows_only="y")
    assert _count(Unit, Unit.name == "探针伪造局") == 0


def test_a_rejected_row_creates_no_unit(client, admin):
    headers = HEADERS + ["责任单位"]
    content = xlsx([row(stage="同意落地") + ["探针伪造局"], row(name="乙公司") + [admin.unit.name]], headers)
    page, batch_id = _preview(client, admin, content)
    assert 'data-testid="new-references"' not in page  # no unit to create
    assert _run(client, batch_id, valid_rows_only="y") == "done"
    assert _count(Unit, Unit.name == "探针伪造局") == 0
    assert _count(Lead) == 1


def test_an_admin_creates_a_unit_for_a_passing_row_only(client, admin):
    content = xlsx([row() + ["新建示范园区"]], HEADERS + ["责任单位"])
    page, batch_id = _preview(client, admin, content)
    assert "新建示范园区" in page
    assert _count(Unit, Unit.name == "新建示范园区") == 0
    assert _run(client, batch_id) == "done"
    assert db.session.scalar(select(Unit).where(Unit.name == "新建示范园区")).kind == "park"


# --- the historical ledger import -------------------------------------------------------------------

def _ledger():
    return xlsx([row(name="甲签约公司", stage="签约", created="2021-01-04") + ["2021-05-10", "", ""],
                 row(name="乙开工公司", stage="开工", created="2019-11-02") + ["2020-03-01", "2020-09-15", ""],
                 row(name="丙终止公司", stage="终止") + ["", "", "投资方资金链断裂"]], HISTORY_HEADERS)


def test_an_admin_loads_the_old_ledger_as_history_without_case_or_meeting(client, admin):
    from crm.decisions.models import AgendaItem
    from crm.screening.models import ScreeningCase

    assert "历史台账导入" in client.get("/imports/new").get_data(as_text=True)
    page, batch_id = _preview(client, admin, _ledger(), history="y")
    assert 'data-testid="history-import"' in page
    assert _run(client, batch_id) == "done"
    leads = {lead.company_name: lead for lead in db.session.scalars(select(Lead))}
    signed, started, lost = leads["甲签约公司"], leads["乙开工公司"], leads["丙终止公司"]
    assert (signed.stage, signed.signed_on) == ("signed", date(2021, 5, 10))
    assert (started.stage, started.signed_on, started.started_on) == ("started", date(2020, 3, 1), date(2020, 9, 15))
    assert lost.stage == "lost" and lost.lost_reason == "投资方资金链断裂"
    assert all(lead.imported_history for lead in leads.values())
    path = [(c.from_stage, c.to_stage, c.changed_at.astimezone(timezone(timedelta(hours=8))).date(), c.history)
            for c in started.stage_changes]
    assert path == [(None, "lead", date(2019, 11, 2), True), ("lead", "signed", date(2020, 3, 1), True),
                    ("signed", "started", date(2020, 9, 15), True)]
    assert all(c.history for lead in leads.values() for c in lead.stage_changes)
    assert _count(ScreeningCase) == 0 and _count(AgendaItem) == 0


def test_the_ledger_needs_the_dates_of_its_outcomes(client, admin):
    content = xlsx([row(stage="开工") + ["2020-03-01", "", ""]], HISTORY_HEADERS)
    page, batch_id = _preview(client, admin, content, history="y")
    assert "历史台账须填写已开工项目的开工日期。" in page
    assert _run(client, batch_id) == "failed" and _count(Lead) == 0


def test_the_ledger_moves_an_existing_lead_forward_as_history(client, admin):
    lead = factories.negotiating_lead(owner=admin, company_name="甲签约公司")
    _page, batch_id = _preview(client, admin, _ledger(), mode="upsert", history="y")
    assert _run(client, batch_id) == "done"
    lead = factories.reload(lead)
    assert (lead.stage, lead.signed_on, lead.imported_history) == ("signed", date(2021, 5, 10), True)
    moves = [(c.from_stage, c.to_stage, c.history) for c in lead.stage_changes]
    assert ("negotiating", "signed", True) in moves


def test_a_team_lead_sending_the_history_flag_gets_403_and_nothing_is_stored(app, client, db_session, tmp_path):
    from crm.auth.services import issue_api_token

    team_lead = factories.user(roles=["team_lead"], username="tl_history")
    client.login(team_lead)
    assert "历史台账导入" not in client.get("/imports/new").get_data(as_text=True)
    assert _upload(client, _ledger(), unit_id=team_lead.unit_id, history="y").status_code == 403
    _token, raw = issue_api_token(team_lead, "t", 30)
    api = app.test_client().post("/api/v1/imports", data={"file": (io.BytesIO(_ledger()), "a.xlsx"), "history": "1"},
                                 headers={"Authorization": f"Bearer {raw}"}, content_type="multipart/form-data")
    assert api.status_code == 403
    path = tmp_path / "台账.xlsx"
    path.write_bytes(_ledger())
    result = app.test_cli_runner().invoke(args=["import-leads", str(path), "--history", "--user", "tl_history"])
    assert result.exit_code != 0 and "administrators" in result.output
    assert _count(ImportBatch) == 0 and _count(Lead) == 0


def test_scoring_reads_the_ledger_as_history_of_unknown_stays(client, admin):
    from crm.scoring.features import load_rows

    _page, batch_id = _preview(client, admin, _ledger(), history="y")
    assert _run(client, batch_id) == "done"
    rows = {r.id: r for r in load_rows()}
    for lead in db.session.scalars(select(Lead)):
        assert rows[lead.id].history_known is False


# --- finding 8: a failed preview, old files -------------------------------------------------------

def test_a_failed_preview_stays_failed_with_its_message(client, officer):
    response = _upload(client, b"", unit_id=officer.unit_id)
    batch_id = int(response.location.rsplit("/", 1)[1])
    assert client.get(response.location).status_code == 400
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.status == "failed" and batch.error


def test_old_uploads_are_deleted_after_the_retention_and_recent_ones_kept(app, db_session, clock_at):
    from crm.interchange import services
    from crm.interchange.jobs import purge_old_files
    from crm.periodic import PERIODIC_JOBS
    from crm.storage import storage

    with app.app_context():
        assert "import-files-purge" in {job.id for job in PERIODIC_JOBS}
        user = factories.user(roles=["team_lead"])
        clock_at("2025-03-01T10:00:00+08:00")
        now = datetime(2025, 3, 1, 2, 0, tzinfo=timezone.utc)
        old = services.store_upload(io.BytesIO(xlsx([row()])), "旧.xlsx", user, user.unit, "create")
        recent = services.store_upload(io.BytesIO(xlsx([row()])), "新.xlsx", user, user.unit, "create")
        abandoned = services.store_upload(io.BytesIO(xlsx([row()])), "弃.xlsx", user, user.unit, "create")
        old.status, old.finished_at = "done", now - timedelta(days=31)
        recent.status, recent.finished_at = "failed", now - timedelta(days=29)
        abandoned.created_at = now - timedelta(days=40)  # previewed, never confirmed
        db.session.flush()
        assert purge_old_files() == 2
        store = storage()
        assert not store.exists(old.stored_path) and not store.exists(abandoned.stored_path)
        assert store.exists(recent.stored_path)
        assert old.files_deleted_at is not None and recent.files_deleted_at is None
        assert abandoned.status == "failed" and "30" in abandoned.error
        assert purge_old_files() == 0  # idempotent
        store.delete_prefix(services.own_folder(recent.stored_path))

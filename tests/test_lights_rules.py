"""The light's rules (crm.lights.rules.evaluate): a table of cases for every rule and threshold
edge, with explicit dates; and every reason in words."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from crm.lights.rules import Facts, add_months, describe, evaluate

DEFAULTS = dict(stale_months=2, red_late_months=3, investment_behind_pct=30, started_not_completed_years=2,
                completed_not_producing_years=2, not_started_months=6)
TODAY = date(2026, 6, 15)
D = date.fromisoformat


def facts(stage="signed", planned=None, actual=None, progress="2026-06-01", **kw) -> Facts:
    return Facts(lead_id=1, stage=stage, planned={k: D(v) for k, v in (planned or {}).items()},
                 actual={k: D(v) for k, v in (actual or {}).items()},
                 last_progress_on=D(progress) if progress else None, **kw)


CASES = [
    # (id, facts, today, settings overrides, colour, reason codes in order)
    ("nothing planned, recent progress", facts("admitted"), TODAY, {}, "green", []),
    ("milestone due today is not late", facts(planned={"start": "2026-06-15"}), TODAY, {}, "green", []),
    ("one day past the planned date", facts(planned={"start": "2026-06-14"}), TODAY, {}, "yellow",
     ["milestone_overdue"]),
    ("exactly 3 months late is still yellow", facts(planned={"start": "2026-03-15"}), TODAY, {}, "yellow",
     ["milestone_overdue"]),
    ("3 months and a day late is red", facts(planned={"start": "2026-03-14"}), TODAY, {}, "red",
     ["milestone_late"]),
    ("red_late_months setting: 1 month", facts(planned={"start": "2026-05-14"}), TODAY, {"red_late_months": 1},
     "red", ["milestone_late"]),
    ("month end: 30 Nov + 3 months = 28 Feb", facts(planned={"start": "2025-11-30"}), date(2026, 2, 28), {},
     "yellow", ["milestone_overdue"]),
    ("month end: red on 1 March", facts(planned={"start": "2025-11-30"}), date(2026, 3, 1), {}, "red",
     ["milestone_late"]),
    ("met late is met", facts("started", planned={"start": "2026-01-01"}, actual={"start": "2026-05-01"}), TODAY,
     {}, "green", []),
    ("reached by the stage without a date", facts("completed", planned={"start": "2025-01-01",
                                                                         "complete": "2026-01-01"}),
     TODAY, {}, "green", []),
    ("signed_on counts as signing", facts("admitted", planned={"sign": "2026-01-01"}, signed_on=D("2026-02-01")),
     TODAY, {}, "green", []),
    ("land counts as supplied once started", facts("started", planned={"land": "2026-01-01"}), TODAY, {},
     "green", []),
    ("land late before the start", facts("signed", planned={"land": "2026-05-01"}), TODAY, {}, "yellow",
     ["milestone_overdue"]),
    ("no progress for exactly 2 months", facts(progress="2026-04-15"), TODAY, {}, "green", []),
    ("no progress for 2 months and a day", facts(progress="2026-04-14"), TODAY, {}, "yellow", ["no_progress"]),
    ("stale_months setting: 1", facts(progress="2026-05-14"), TODAY, {"stale_months": 1}, "yellow",
     ["no_progress"]),
    ("a producing project is not stale", facts("producing", progress="2025-01-01"), TODAY, {}, "green", []),
    ("problem due today is not overdue", facts(open_problem_dues=(D("2026-06-15"),)), TODAY, {}, "green", []),
    ("problem past its due date", facts(open_problem_dues=(D("2026-06-14"), D("2026-07-01"))), TODAY, {},
     "yellow", ["problems_overdue"]),
    ("到资 exactly 30% behind is not red",
     facts("started", planned={"start": "2026-06-05", "complete": "2026-06-25"}, actual={"start": "2026-06-05"},
           investment_basis_wan=Decimal(1000), invested_wan=Decimal(350)), TODAY, {}, "green", []),
    ("到资 more than 30% behind is red",
     facts("started", planned={"start": "2026-06-05", "complete": "2026-06-25"}, actual={"start": "2026-06-05"},
           investment_basis_wan=Decimal(1000), invested_wan=Decimal("349.99")), TODAY, {}, "red",
     ["investment_behind"]),
    ("到资 setting: 50%",
     facts("started", planned={"start": "2026-06-05", "complete": "2026-06-25"}, actual={"start": "2026-06-05"},
           investment_basis_wan=Decimal(1000), invested_wan=Decimal("300")), TODAY, {"investment_behind_pct": 50},
     "green", []),
    ("not started yet: a late start is yellow, not a 到资 red",
     facts("signed", planned={"start": "2026-06-05", "complete": "2026-06-25"}, actual={"sign": "2026-05-01"},
           investment_basis_wan=Decimal(1000), invested_wan=Decimal(0)), TODAY, {}, "yellow", ["milestone_overdue"]),
    ("nothing due before the planned start",
     facts("signed", planned={"start": "2026-07-01", "complete": "2027-07-01"}, investment_basis_wan=Decimal(1000)),
     TODAY, {}, "green", []),
    ("no agreement amount: no 到资 rule",
     facts("started", planned={"start": "2026-06-05", "complete": "2026-06-25"}, actual={"start": "2026-06-05"}),
     TODAY, {}, "green", []),
    ("signed, not started 6 months after the planned start", facts("signed", planned={"start": "2025-12-15"}),
     TODAY, {}, "red", ["milestone_late", "not_started"]),
    ("signed, a day short of 6 months", facts("signed", planned={"start": "2025-12-16"}), TODAY, {}, "red",
     ["milestone_late"]),
    ("not_started_months setting: 4", facts("signed", planned={"start": "2026-02-15"}), TODAY,
     {"not_started_months": 4, "red_late_months": 12}, "red", ["not_started", "milestone_overdue"]),
    ("admitted, not signed: no not-started rule", facts("admitted", planned={"start": "2025-12-15"}), TODAY, {},
     "red", ["milestone_late"]),
    ("started 2 years ago, not completed", facts("started", actual={"start": "2024-06-15"}), TODAY, {}, "red",
     ["started_not_completed"]),
    ("started a day short of 2 years", facts("started", actual={"start": "2024-06-16"}), TODAY, {}, "green", []),
    ("started (lead's date) 2 years ago", facts("started", started_on=D("2024-06-15")), TODAY, {}, "red",
     ["started_not_completed"]),
    ("started_not_completed_years setting: 3", facts("started", actual={"start": "2024-06-15"}), TODAY,
     {"started_not_completed_years": 3}, "green", []),
    ("started long ago and completed", facts("completed", actual={"start": "2020-01-01", "complete": "2026-06-01"}),
     TODAY, {}, "green", []),
    ("completed 2 years ago, not producing", facts("completed", actual={"complete": "2024-06-15"}), TODAY, {},
     "red", ["completed_not_producing"]),
    ("completed a day short of 2 years", facts("completed", actual={"complete": "2024-06-16"}), TODAY, {},
     "green", []),
    ("completed long ago and producing", facts("producing", actual={"complete": "2020-01-01"}), TODAY, {},
     "green", []),
    ("the worst wins and every reason is kept",
     facts("signed", planned={"land": "2026-06-01", "start": "2025-12-15"}, progress="2026-01-01",
           open_problem_dues=(D("2026-01-01"),)), TODAY, {}, "red",
     ["milestone_late", "not_started", "milestone_overdue", "no_progress", "problems_overdue"]),
    ("producing: 上规 late", facts("producing", planned={"above_scale": "2026-06-01"}), TODAY, {}, "yellow",
     ["milestone_overdue"]),
]


@pytest.mark.parametrize("project, today, overrides, colour, codes", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_rules(project, today, overrides, colour, codes):
    got_colour, reasons = evaluate(project, SimpleNamespace(**{**DEFAULTS, **overrides}), today)
    assert (got_colour, [r["code"] for r in reasons]) == (colour, codes)
    assert all(r["colour"] in ("yellow", "red") for r in reasons)


@pytest.mark.parametrize("stage", ["lost", "rejected", "above_scale", "negotiating", "awaiting_decision"])
def test_terminated_finished_and_untracked_projects_are_not_lit(stage):
    project = facts(stage, planned={"start": "2020-01-01"}, progress="2020-01-01")
    assert evaluate(project, SimpleNamespace(**DEFAULTS), TODAY) == (None, [])


def test_reason_parameters_are_kept():
    project = facts("started", planned={"start": "2026-06-05", "complete": "2026-06-25"},
                    actual={"start": "2026-06-05"}, investment_basis_wan=Decimal(1000), invested_wan=Decimal(100))
    _colour, [reason] = evaluate(project, SimpleNamespace(**DEFAULTS), TODAY)
    assert reason == {"code": "investment_behind", "colour": "red", "params": {
        "invested": "100.00", "planned": "500.00", "behind_pct": "80.0", "threshold": 30}}


@pytest.mark.parametrize("day, months, expected", [
    ("2026-01-31", 1, "2026-02-28"), ("2024-01-31", 1, "2024-02-29"), ("2026-11-15", 3, "2027-02-15"),
    ("2024-02-29", 12, "2025-02-28")])
def test_add_months(day, months, expected):
    assert add_months(D(day), months) == D(expected)


WORDS = [
    ({"code": "milestone_overdue", "params": {"milestone": "start", "planned_on": "2026-03-01"}},
     "开工 计划 2026年3月1日，已逾期 45 天"),
    ({"code": "milestone_late", "params": {"milestone": "complete", "planned_on": "2026-01-05", "months": 3}},
     "竣工 计划 2026年1月5日，已逾期 100 天（超过 3 个月）"),
    ({"code": "investment_behind", "params": {"invested": "100.00", "planned": "12500.50", "behind_pct": "99.2",
                                              "threshold": 30}},
     "到资 100 万元，按计划此时应到 12,500.5 万元，落后 99.2%（超过 30%）"),
    ({"code": "not_started", "params": {"planned_on": "2025-12-15", "months": 6}},
     "已签约，计划开工日期（2025年12月15日）后 6 个月仍未开工"),
    ({"code": "started_not_completed", "params": {"started_on": "2024-06-15", "years": 2}},
     "2024年6月15日 开工，2 年未竣工"),
    ({"code": "completed_not_producing", "params": {"completed_on": "2024-06-15", "years": 2}},
     "2024年6月15日 竣工，2 年未投产"),
    ({"code": "no_progress", "params": {"last_on": "2026-04-14", "months": 2}},
     "自 2026年4月14日 以来未记录任何步骤、节点或到资（超过 2 个月）"),
    ({"code": "problems_overdue", "params": {"count": 2, "earliest_due": "2026-06-14"}},
     "2 个问题已过办结期限（最早于 2026年6月14日 到期）"),
    ({"code": "something_new", "params": {}}, "something_new"),
]


@pytest.mark.parametrize("reason, text", WORDS, ids=[w[0]["code"] for w in WORDS])
def test_every_reason_in_words(app, reason, text):
    with app.test_request_context("/"):
        assert describe(reason, on=date(2026, 4, 15)) == text  # days late counted to that day


def test_reasons_in_english_for_an_english_reader(app):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert describe({"code": "milestone_overdue", "params": {"milestone": "start", "planned_on": "2026-03-01"}},
                        on=date(2026, 4, 15)) == \
            "Construction start planned for 2026-03-01, 45 days overdue"

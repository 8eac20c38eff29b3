"""The demo county's projects after admission: agreements, plans (a few replanned), actual dates
from each lead's history, 到资, the 23 steps with points, yearly output and tax, and problem lists
like 衡东's (about nine in ten solved). Lights and letters are then computed by their own rules
(crm.lights, crm.letters) so what the demo shows is what the product would have shown."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.extensions import db
from crm.leads.models import Lead
from crm.leads.pipeline import Stage, rank
from crm.problems.models import Problem, ProblemStatus
from crm.tracking.models import (Agreement, InvestmentEntry, Milestone, MilestoneActual, MilestonePlan,
                                 StepDefinition, StepRecord, YearlyResult)
from crm.tracking.plan import investment_basis, planned_investment_by

_CST = timezone(timedelta(hours=8))
TRACKED = [s.value for s in (Stage.ADMITTED, Stage.SIGNED, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING,
                             Stage.ABOVE_SCALE)]
_ACTUAL_OF = {Stage.SIGNED.value: Milestone.SIGN, Stage.STARTED.value: Milestone.START,
              Stage.COMPLETED.value: Milestone.COMPLETE, Stage.PRODUCING.value: Milestone.PRODUCE,
              Stage.ABOVE_SCALE.value: Milestone.ABOVE_SCALE}
# Typical days from one milestone to the next in the county's agreements (签约 counted from admission).
_GAPS = {Milestone.SIGN: (20, 60), Milestone.LAND: (30, 90), Milestone.START: (30, 120),
         Milestone.COMPLETE: (300, 540), Milestone.PRODUCE: (60, 150), Milestone.ABOVE_SCALE: (300, 420)}
_REPLAN_REASONS = ["土地摘牌时间推迟，按新的出让计划调整", "环评批复晚于预期，开工顺延",
                   "企业设备采购周期延长，调整投产时间", "春节及雨季影响施工，经协商调整计划",
                   "项目方案优化调整，重新报批规划许可"]

# 问题清单: (category, description, the department that solves it (None: the owner unit), resolution)
_PROBLEMS = [
    ("land", "项目用地中有 3.2 亩林地需办理使用林地审核手续，影响供地时间", "县林业局",
     "县林业局开辟绿色通道，5 个工作日内完成林地使用审核"),
    ("land", "土地挂牌出让前需完成土地征收报批，进度滞后", "县自然资源局",
     "县自然资源局专人跟踪报批，已完成挂牌出让"),
    ("planning", "厂房容积率与控制性详细规划不一致，需调整规划条件", "县自然资源局",
     "经县规委会研究同意调整规划条件，已出具建设工程规划许可"),
    ("environment", "环评报告需补充废气治理专项论证，审批时间紧", "三明市将乐生态环境局",
     "生态环境局提前介入指导，环评批复已下达"),
    ("energy", "项目年综合能耗超过 5000 吨标煤，需省级节能审查", "县发改局",
     "县发改局协调市发改委提前预审，节能审查意见已出具"),
    ("funding", "企业流动资金紧张，设备款支付滞后", "县商务局",
     "协调县农商行、兴业银行发放技改贷款 2000 万元"),
    ("utilities", "厂区 10 千伏专线未接入，影响设备调试", "县工信局",
     "县工信局协调供电公司，专线已通电"),
    ("utilities", "园区天然气管道未延伸至项目地块", "将乐经济开发区",
     "开发区管委会实施管网延伸工程，已通气"),
    ("relocation", "项目红线内 2 户房屋及祖坟迁移未完成", None,
     "乡镇组织专班上门做工作，已签订搬迁协议并完成迁移"),
    ("policy", "企业申请设备补助政策兑现，需明确申报口径", "县工信局",
     "县工信局出具政策解读，已兑现设备补助 186 万元"),
    ("policy", "外地员工子女入学需协调安排", "县商务局",
     "协调县教育局统筹安排学位，12 名员工子女已入学"),
    ("other", "项目进场道路狭窄，大型设备无法运输", "县工信局",
     "交通部门临时拓宽进场道路，设备已进场"),
]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=_CST).astimezone(timezone.utc)


def _history(lead: Lead) -> dict[str, date]:
    days = {}
    for change in lead.stage_changes:
        days[change.to_stage] = change.changed_at.astimezone(_CST).date()
    return days


def seed_tracking(units: dict, users: dict, today: date, seed: int) -> dict:
    rng = random.Random(seed * 15 + 7)
    steps = list(db.session.scalars(select(StepDefinition).order_by(StepDefinition.position)))
    leads = list(db.session.scalars(
        select(Lead).where(Lead.stage.in_(TRACKED)).order_by(Lead.id)
        .options(selectinload(Lead.stage_changes), selectinload(Lead.owner_unit))))
    counts = {"projects": 0, "problems": 0, "solved": 0}
    admin = users["admin"]
    for lead in leads:
        _seed_project(rng, lead, steps, units, admin, today, counts)
        if counts["projects"] % 100 == 0:
            db.session.flush()
    db.session.flush()
    return counts


def _seed_project(rng, lead: Lead, steps, units, admin, today: date, counts: dict) -> None:
    counts["projects"] += 1
    officer = lead.owner or admin
    history = _history(lead)
    admitted_on = history.get(Stage.ADMITTED.value) or lead.signed_on or lead.created_on
    land = lead.land_area_mu or Decimal(rng.choice([20, 35, 50, 80, 120]))
    total = lead.planned_investment_wan or Decimal(rng.choice([5000, 12000, 30000]))
    fixed = lead.fixed_asset_investment_wan or (total * Decimal("0.7")).quantize(Decimal("1"))
    db.session.add(Agreement(
        lead_id=lead.id, total_investment_wan=total, fixed_asset_investment_wan=fixed, land_area_mu=land,
        promised_output_wan=lead.expected_output_wan, promised_tax_wan=lead.expected_tax_wan, jobs=lead.jobs,
        updated_by=officer, created_at=_at(admitted_on + timedelta(days=3))))

    # Actual dates from the lead's history (the stage followed them), 供地 shortly before the start.
    actual: dict[Milestone, date] = {m: history[s] for s, m in _ACTUAL_OF.items() if s in history}
    if lead.signed_on:
        actual[Milestone.SIGN] = lead.signed_on
    if lead.started_on:
        actual[Milestone.START] = lead.started_on
    if Milestone.START in actual:
        actual[Milestone.LAND] = actual[Milestone.START] - timedelta(days=rng.randint(20, 75))
        if Milestone.SIGN in actual:
            actual[Milestone.LAND] = max(actual[Milestone.LAND], actual[Milestone.SIGN] + timedelta(days=7))

    # Plans: met on time mostly; one in four late by weeks or months; the future ones spread ahead.
    planned: dict[Milestone, date] = {}
    anchor = admitted_on
    for milestone in Milestone:
        lo, hi = _GAPS[milestone]
        if milestone in actual:
            late = rng.random() < 0.25
            day = actual[milestone] - timedelta(days=rng.randint(10, 130)) if late else \
                actual[milestone] + timedelta(days=rng.randint(0, 25))
        else:  # ahead of today, as the latest plan says; one in nine already overdue
            day = max(anchor + timedelta(days=rng.randint(lo, hi)), today + timedelta(days=rng.randint(10, 150)))
            if rng.random() < 0.11:
                day = today - timedelta(days=rng.choice([8, 20, 35, 50, 75, 110]))
        day = max(day, anchor + timedelta(days=1))
        planned[milestone] = day
        anchor = day
    creator = officer
    for milestone, day in planned.items():
        made_on = admitted_on + timedelta(days=3)
        if milestone in (Milestone.START, Milestone.PRODUCE) and rng.random() < 0.12 and made_on < today:
            first = day - timedelta(days=rng.randint(30, 90))
            db.session.add(MilestonePlan(lead_id=lead.id, milestone=milestone.value, planned_on=first,
                                         created_by=creator, created_at=_at(made_on),
                                         superseded_at=_at(min(today, made_on + timedelta(days=60)))))
            db.session.add(MilestonePlan(lead_id=lead.id, milestone=milestone.value, planned_on=day,
                                         reason=rng.choice(_REPLAN_REASONS), created_by=creator,
                                         created_at=_at(min(today, made_on + timedelta(days=60)))))
        else:
            db.session.add(MilestonePlan(lead_id=lead.id, milestone=milestone.value, planned_on=day,
                                         created_by=creator, created_at=_at(made_on)))
    for milestone, day in actual.items():
        if day <= today:
            db.session.add(MilestoneActual(lead_id=lead.id, milestone=milestone.value, actual_on=day,
                                           recorded_by=officer, recorded_at=_at(day, 17)))

    _seed_investment(rng, lead, fixed, planned, actual, officer, today)
    _seed_steps(rng, lead, steps, history, actual, officer, today, planned)
    if Milestone.PRODUCE in actual:
        _seed_results(rng, lead, land, actual[Milestone.PRODUCE], today)
    _seed_problems(rng, lead, units, officer, actual, admitted_on, today, counts)


def _seed_investment(rng, lead, fixed, planned, actual, officer, today) -> None:
    start = actual.get(Milestone.START)
    if start is None:
        return
    pace = rng.choice([1.0] * 7 + [1.05, 0.85, 0.55])  # one in ten falls far behind: red
    end = actual.get(Milestone.COMPLETE, today)
    day, paid = start, Decimal(0)
    while day <= min(end, today):
        # Money arrives ahead of the works it pays for: the plan two months on.
        target = planned_investment_by(day + timedelta(days=60), fixed, planned[Milestone.START],
                                       planned[Milestone.COMPLETE]) or Decimal(0)
        amount = (target * Decimal(str(pace)) - paid).quantize(Decimal("1"))
        if amount > 0:
            db.session.add(InvestmentEntry(lead_id=lead.id, paid_on=day, amount_wan=amount, recorded_by=officer,
                                           note=rng.choice(["设备款", "土建工程款", "土地出让金", "厂房建设", None]),
                                           recorded_at=_at(day, 16)))
            paid += amount
        day += timedelta(days=rng.randint(45, 75))
    if Milestone.COMPLETE in actual and paid < fixed and pace >= 0.85:
        db.session.add(InvestmentEntry(lead_id=lead.id, paid_on=actual[Milestone.COMPLETE],
                                       amount_wan=fixed - paid, note="竣工结算", recorded_by=officer,
                                       recorded_at=_at(actual[Milestone.COMPLETE], 16)))


# The day each step was reached, from the lead's history and its actual milestones.
def _step_day(position: int, history: dict, actual: dict, created_on: date, rng) -> date | None:
    sign, start, complete, produce = (actual.get(m) for m in (Milestone.SIGN, Milestone.START,
                                                                Milestone.COMPLETE, Milestone.PRODUCE))
    negotiating = history.get(Stage.NEGOTIATING.value, created_on)
    table = {1: created_on, 2: negotiating, 3: history.get(Stage.SCREENING.value),
             4: history.get(Stage.AWAITING_DECISION.value), 5: history.get(Stage.ADMITTED.value), 6: sign}
    if position in table:
        return table[position]
    if position in (7, 8):
        return sign + timedelta(days=rng.randint(5, 30)) if sign else None
    if 9 <= position <= 16:
        if not (sign and start):
            return None
        span = max((start - sign).days, 9)
        return sign + timedelta(days=span * (position - 8) // 9)
    if position == 17:
        return start
    if position in (18, 19):
        if not (start and complete):
            return None
        return start + timedelta(days=(complete - start).days * (position - 17) // 3)
    if position == 20:
        return complete
    if position == 21:
        return complete + timedelta(days=(produce - complete).days // 2) if complete and produce else None
    if position == 22:
        return produce
    if position == 23:
        return actual.get(Milestone.ABOVE_SCALE)
    return None


def _in_progress(position: int, actual: dict, planned: dict, today: date) -> date | None:
    """Steps of the phase under way: reached in proportion to the time gone towards the next
    milestone, spread evenly up to today (a project at work shows progress)."""
    for first, last, since, until in ((7, 16, Milestone.SIGN, Milestone.START),
                                      (18, 19, Milestone.START, Milestone.COMPLETE),
                                      (21, 21, Milestone.COMPLETE, Milestone.PRODUCE)):
        if first <= position <= last and since in actual and until not in actual:
            begun, due = actual[since], planned[until]
            share = min(1.0, (today - begun).days / max(1, (due - begun).days))
            reached = int(share * (last - first + 1) + 0.5)
            if position - first < reached:
                return begun + (today - begun) * (position - first + 1) / (reached + 1)
    return None


def _seed_steps(rng, lead, steps, history, actual, officer, today, planned=None) -> None:
    for step in steps:
        day = _step_day(step.position, history, actual, lead.created_on, rng)
        if day is None and planned:
            day = _in_progress(step.position, actual, planned, today)
        if day is None or day > today:
            continue
        db.session.add(StepRecord(lead_id=lead.id, step_id=step.id, reached_on=day, unit_id=lead.owner_unit_id,
                                  points=step.points, recorded_by=officer, recorded_at=_at(day, 17)))


def _seed_results(rng, lead, land: Decimal, produced_on: date, today: date) -> None:
    efficient = rng.random() > 0.15  # about one in seven below 5 万元/亩: 长兴's 腾笼换鸟 line
    for year in range(produced_on.year, today.year):
        tax_per_mu = Decimal(str(rng.uniform(6, 28) if efficient else rng.uniform(1.2, 4.6)))
        tax = (tax_per_mu * land).quantize(Decimal("1"))
        output = (tax * Decimal(str(rng.uniform(12, 22)))).quantize(Decimal("1"))
        if year == produced_on.year:
            tax, output = (tax / 2).quantize(Decimal("1")), (output / 2).quantize(Decimal("1"))
        db.session.add(YearlyResult(lead_id=lead.id, year=year, output_wan=output, tax_wan=tax,
                                    source="tax_bureau", import_ref=f"{year + 1}年度税务数据"))


def _seed_problems(rng, lead, units, officer, actual, admitted_on, today, counts) -> None:
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
        category, description, unit_name, resolution = rng.choice(_PROBLEMS)
        raised = admitted_on + timedelta(days=rng.randint(10, max(11, (today - admitted_on).days)))
        if raised > today:
            continue
        unit = units.get(unit_name) if unit_name else lead.owner_unit
        due = raised + timedelta(days=rng.choice([15, 30, 45]))
        problem = Problem(lead_id=lead.id, category=category, description=description,
                          responsible_unit=unit or lead.owner_unit, due_on=due, raised_by=officer,
                          raised_on=raised, created_at=_at(raised))
        counts["problems"] += 1
        roll = rng.random()
        if roll < 0.9 and (due < today or roll < 0.45):  # 衡东: 63 raised, 56 solved
            solved = min(today, raised + timedelta(days=rng.randint(5, (due - raised).days + 20)))
            problem.status, problem.resolution, problem.solved_on = ProblemStatus.SOLVED.value, resolution, solved
            problem.solved_by = officer
            counts["solved"] += 1
        elif roll < 0.93 and due < today:
            problem.status = ProblemStatus.CLOSED_UNSOLVED.value
            problem.resolution = "企业调整建设方案，问题不再存在"
        else:
            problem.status = rng.choice([ProblemStatus.OPEN.value, ProblemStatus.SOLVING.value])
        db.session.add(problem)


_ACKNOWLEDGERS = ("tl_", "officer_")
_REPLIES = {
    "reminder": ["已对接企业，施工图审查已完成，施工许可正在办理，确保按计划开工。",
                 "企业设备已订货，厂房装修进入收尾，预计按期投产。"],
    "assignment": ["已成立项目服务专班，土地摘牌已完成，计划本月下旬进场施工。",
                   "经与企业会商，因设备到货延迟，投产时间调整至下月底，已报县招商服务中心备案。"],
    "supervision": ["已召开专题协调会，逐项落实问题清单，每周报送进度。",
                    "县领导挂钩协调，资金缺口已通过银行贷款解决，项目恢复施工。"],
}


def age_letters(users: dict, today: date, seed: int) -> dict:
    """Give the letters the job wrote a life: most acknowledged and answered (some late), some
    acknowledged only, a few still unopened."""
    from datetime import timedelta

    from crm.letters.models import Letter

    rng = random.Random(seed * 31 + 3)
    by_unit: dict[int, list] = {}
    for user in users.values():
        if user.username.startswith(_ACKNOWLEDGERS):
            by_unit.setdefault(user.unit_id, []).append(user)
    stats = {"answered": 0, "acknowledged": 0, "waiting": 0}
    for letter in db.session.scalars(select(Letter).order_by(Letter.id)):
        people = by_unit.get(letter.unit_id)
        roll = rng.random()
        # Past their reply date most letters are answered (one in seven late, a few not at all);
        # the recent ones are still being worked on.
        waiting, acknowledged_only = (0.06, 0.12) if letter.reply_due_on < today else (0.3, 0.6)
        if not people or roll < waiting or letter.issued_on >= today:
            stats["waiting"] += 1
            continue
        who = rng.choice(people)
        acknowledged = min(today, letter.issued_on + timedelta(days=rng.randint(0, 2)))
        letter.acknowledged_by_id, letter.acknowledged_at = who.id, _at(acknowledged, 9)
        if roll < acknowledged_only:
            stats["acknowledged"] += 1
            continue
        late = rng.random() < 0.15
        replied = letter.reply_due_on + timedelta(days=rng.randint(1, 6)) if late else \
            letter.issued_on + timedelta(days=rng.randint(1, max(1, (letter.reply_due_on - letter.issued_on).days)))
        if replied > today:
            stats["acknowledged"] += 1
            continue
        letter.reply = rng.choice(_REPLIES.get(letter.kind, _REPLIES["reminder"]))
        letter.replied_by_id, letter.replied_at, letter.replied_on = who.id, _at(replied, 15), replied
        stats["answered"] += 1
    db.session.flush()
    return stats


def run_the_nights(users: dict, today: date, seed: int) -> dict:
    """The nightly light and letter runs, once a week over the last four months up to today, so
    the demo has lights with a history and letters issued on many days; then the letters' life."""
    from crm import clock
    from crm.letters import services as letters, triggers
    from crm.lights import services as lights
    from crm.screening.calendar import UnknownYearError
    from crm.screening.services import load_calendar
    from crm.tracking.settings import peek_settings

    settings = peek_settings()
    calendar = load_calendar()
    written = 0
    for back in range(119, -1, -7):
        day = today - timedelta(days=back)
        with clock.fixed_at(day):
            lights.recompute_all(day)
            due = triggers.due_letters(day, settings)
            try:
                reply_due_on = letters.reply_due(day, int(settings.reply_working_days), calendar)
            except UnknownYearError:
                continue
            written += len(letters.write_letters(due, day, reply_due_on))
    stats = age_letters(users, today, seed)
    return {"letters": written, **stats}

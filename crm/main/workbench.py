"""The home page as a workbench: each role lands on what it must do today.

A person may hold several roles; a block appears for each capability held, so an officer who is
also a screening liaison sees both blocks:

- desk (LEADS_EDIT_UNIT: officers, team leads): follow-ups due — overdue first, then within a
  week —, leads returned for materials with their one-time notice, projects with a yellow or red
  light with the worst reason in words, the pipeline and the unit's targets. Always the own
  unit's leads only; an officer sees the leads he or she owns, a team lead (LEADS_ASSIGN) the
  whole unit's.
- unit work (TRACKING_RESPOND: officers, team leads, department liaisons): letters waiting for
  the unit's 签收/反馈 (overdue first) and problems the unit must solve.
- screening (SCREENING_ANSWER): the cases waiting for the unit's opinion, with the time left.
- votes (DECISIONS_VOTE): the agenda items waiting for the member's vote.
- cockpit (DASHBOARD_READ_ALL: leaders, viewers, admins): this year's headline figures, with
  links to the cockpit and the ranking. Someone who only reads (a viewer) goes straight to the
  cockpit (`cockpit_only`).
- admin (the settings capabilities): holiday-table gaps, failed or waiting imports, scoring
  targets without a usable model, official papers without an issuer, proposals waiting for the
  agenda. Never the county's follow-ups.

Every list is bounded (LIMIT) with its total counted apart, and loads its related rows in the
same query (no query per row). Reading only: nothing here writes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_pgettext, pgettext
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased, contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from crm import clock
from crm.auth.roles import Permission
from crm.extensions import db
from crm.leads.models import Lead, LeadActivity
from crm.leads.pipeline import MAIN_LINE, Stage

LIMIT = 10          # rows per block on the home page
FULL_LIMIT = 500    # rows per group on the full follow-up list
WEEK = 7            # "due within a week": today up to today + 7 days
IMPORT_FAILED_DAYS = 30  # a failed import stays on the admin's list this long

# Follow-ups of leads that left the pipeline are not due any more.
CLOSED_STAGES = (Stage.LOST.value, Stage.REJECTED.value)

# Capabilities that come with work to do on the home page. A user holding none of them but
# reading the county's cockpit only reads: the home page is the cockpit.
WORK = (Permission.LEADS_EDIT_UNIT, Permission.TRACKING_RESPOND, Permission.SCREENING_ANSWER,
        Permission.DECISIONS_VOTE, Permission.DECISIONS_MANAGE, Permission.LEADS_IMPORT,
        Permission.MANAGE_ACCOUNTS, Permission.SCREENING_SETTINGS, Permission.SCORING_MANAGE,
        Permission.PAPERS_SETTINGS, Permission.TRACKING_SETTINGS)

IMPORT_STATE_LABELS = {
    "failed": lazy_pgettext("import state", "Failed"),
    "previewed": lazy_pgettext("import state", "Waiting for confirmation"),
    "queued": lazy_pgettext("import state", "Queued"),
    "running": lazy_pgettext("import state", "Importing"),
}


@dataclass
class Listing:
    """The first rows of a list, how many there are in all, and the full list's address."""
    rows: list
    total: int
    url: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


def cockpit_only(user) -> bool:
    return user.can(Permission.DASHBOARD_READ_ALL) and not user.can(*WORK)


# --- desk: officers and team leads ---------------------------------------------------------------

def sees_whole_unit(user) -> bool:
    return user.can(Permission.LEADS_ASSIGN)


def desk_conditions(user) -> list:
    """The leads of the desk: the own unit's, and an officer's own among them."""
    conds = [Lead.owner_unit_id == user.unit_id]
    if not sees_whole_unit(user):
        conds.append(Lead.owner_id == user.id)
    return conds


def _latest_follow_ups(user):
    """Each desk lead's newest activity that plans a next follow-up (a later activity replaces
    an earlier plan: only the newest activity of a lead counts)."""
    later = aliased(LeadActivity)
    newest = ~exists().where(later.lead_id == LeadActivity.lead_id, later.id > LeadActivity.id)
    return (select(LeadActivity).join(Lead, Lead.id == LeadActivity.lead_id)
            .where(*desk_conditions(user), newest, LeadActivity.next_follow_up_on.is_not(None),
                   Lead.stage.not_in(CLOSED_STAGES)))


def follow_ups(user, today: date, limit: int = LIMIT) -> dict[str, Listing]:
    """{"overdue": …, "week": …}: follow-ups past their date (the oldest first), then those due
    from today to a week ahead (the soonest first)."""
    base = _latest_follow_ups(user)
    horizon = today + timedelta(days=WEEK)
    due = LeadActivity.next_follow_up_on
    row = db.session.execute(base.with_only_columns(
        func.coalesce(func.sum(case((due < today, 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(due >= today, due <= horizon), 1), else_=0)), 0))).one()
    groups = {"overdue": (due < today, row[0]), "week": (and_(due >= today, due <= horizon), row[1])}
    out = {}
    for key, (condition, total) in groups.items():
        rows = db.session.scalars(base.where(condition)
                                  .options(contains_eager(LeadActivity.lead).joinedload(Lead.owner))
                                  .order_by(due, LeadActivity.id).limit(limit)).all() if total else []
        out[key] = Listing(list(rows), int(total), url_for("main.follow_ups"))
    return out


def returned_leads(user, limit: int = LIMIT) -> Listing:
    """Desk leads returned for materials (waiting longest first), each with the one-time notice
    of its last pre-screening round when there is one: [(lead, case or None)]."""
    from crm.screening.models import ScreeningCase

    conds = [*desk_conditions(user), Lead.stage == Stage.RETURNED.value]
    total = db.session.scalar(select(func.count()).select_from(Lead).where(*conds)) or 0
    leads = db.session.scalars(select(Lead).where(*conds).order_by(Lead.updated_at, Lead.id).limit(limit)).all() \
        if total else []
    cases = {}
    if leads:
        last_round = (select(func.max(ScreeningCase.id)).where(ScreeningCase.lead_id.in_([l.id for l in leads]))
                      .group_by(ScreeningCase.lead_id))
        cases = {c.lead_id: c for c in
                 db.session.scalars(select(ScreeningCase).where(ScreeningCase.id.in_(last_round)))}
    args = {"stage": Stage.RETURNED.value}
    if not sees_whole_unit(user):
        args["owner_id"] = user.id
    return Listing([(lead, cases.get(lead.id)) for lead in leads], total, url_for("leads.index", **args))


def lit_projects(user, today: date, limit: int = LIMIT) -> Listing:
    """Desk projects with a red or yellow light, red first, the longest lit first, each with its
    worst reason in words: [(light, lead, reason text)]. counts: per colour."""
    from crm.lights.models import Colour, ProjectLight
    from crm.lights.rules import describe

    colours = (Colour.RED.value, Colour.YELLOW.value)
    conds = [*desk_conditions(user), ProjectLight.colour.in_(colours)]
    base = select(ProjectLight).join(Lead, Lead.id == ProjectLight.lead_id).where(*conds)
    counts = dict(db.session.execute(base.with_only_columns(ProjectLight.colour, func.count())
                                     .group_by(ProjectLight.colour)).all())
    total = sum(counts.values())
    rows = db.session.execute(
        base.add_columns(Lead).order_by(case((ProjectLight.colour == Colour.RED.value, 0), else_=1),
                                        ProjectLight.since, Lead.id).limit(limit)).all() if total else []
    out = [(light, lead, describe(light.reasons[0], today) if light.reasons else "") for light, lead in rows]
    return Listing(out, total, url_for("tracking.projects"), {c: int(counts.get(c, 0)) for c in colours})


def pipeline(user) -> dict[str, int]:
    """The unit's leads per stage."""
    return dict(db.session.execute(select(Lead.stage, func.count()).where(Lead.owner_unit_id == user.unit_id)
                                   .group_by(Lead.stage)).all())


PIPELINE_STAGES = MAIN_LINE + [Stage.RETURNED, Stage.REJECTED, Stage.LOST]


# --- unit work: letters and problems addressed to the unit -----------------------------------------

def unit_letters(unit_id: int, today: date, limit: int = LIMIT) -> Listing:
    """Letters waiting for the unit's 签收 or 反馈, overdue first. counts: crm.letters' states."""
    from crm.letters.queries import waiting_for_unit

    letters, counts = waiting_for_unit(unit_id, today, limit=limit)
    return Listing(letters, counts["all"], url_for("tracking.unit_desk", unit_id=unit_id), counts)


def unit_problems(unit_id: int, today: date, limit: int = LIMIT) -> Listing:
    """Open problems the unit must solve, the earliest due (so the overdue) first."""
    from crm.problems.models import OPEN_STATUSES, Problem

    conds = [Problem.responsible_unit_id == unit_id, Problem.status.in_([s.value for s in OPEN_STATUSES])]
    total, overdue = db.session.execute(select(
        func.count(), func.coalesce(func.sum(case((Problem.due_on < today, 1), else_=0)), 0)).where(*conds)).one()
    rows = db.session.scalars(select(Problem).where(*conds).options(joinedload(Problem.lead))
                              .order_by(Problem.due_on, Problem.id).limit(limit)).all() if total else []
    return Listing(list(rows), int(total), url_for("problems.index", unit_id=unit_id), {"overdue": int(overdue)})


# --- screening liaisons -------------------------------------------------------------------------------

def screening_cases(unit_id: int, limit: int = LIMIT) -> Listing:
    """Open cases waiting for the unit's first opinion, most urgent first: [(case, case unit)]."""
    from crm.screening.models import CaseStatus, CaseUnit, ScreeningCase

    conds = [CaseUnit.unit_id == unit_id, ScreeningCase.status == CaseStatus.OPEN.value,
             CaseUnit.answered_at.is_(None)]
    base = select(ScreeningCase, CaseUnit).join(CaseUnit, CaseUnit.case_id == ScreeningCase.id).where(*conds)
    total = db.session.scalar(select(func.count()).select_from(CaseUnit).join(
        ScreeningCase, ScreeningCase.id == CaseUnit.case_id).where(*conds)) or 0
    rows = db.session.execute(base.options(joinedload(ScreeningCase.lead))
                              .order_by(ScreeningCase.due_at.is_(None), ScreeningCase.due_at, ScreeningCase.id)
                              .limit(limit)).all() if total else []
    return Listing([(c, cu) for c, cu in rows], total, url_for("screening.todo"))


# --- leaders: votes ------------------------------------------------------------------------------------

def _attach(rows, attribute: str, model, key: str) -> None:
    """Load the `model` rows that `rows` point at (through their `key` column) in one query and
    set them as each row's `attribute`: no lazy load per row when the page reads it."""
    ids = {getattr(r, key) for r in rows if getattr(r, key) is not None}
    found = {o.id: o for o in db.session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
    for r in rows:
        set_committed_value(r, attribute, found.get(getattr(r, key)))


def pending_votes(user, limit: int = LIMIT) -> Listing:
    """The items of meetings in session waiting for this member's vote (crm.decisions' rule)."""
    from crm.decisions.models import Meeting
    from crm.decisions.voting import pending_votes_for

    items = pending_votes_for(user)
    shown = items[:limit]
    _attach(shown, "lead", Lead, "lead_id")
    _attach(shown, "meeting", Meeting, "meeting_id")
    return Listing(shown, len(items), url_for("decisions.meetings"))


def _attach_nodes(targets) -> None:
    from crm.chains.models import ChainNode

    _attach(targets, "node", ChainNode, "node_id")


# --- leaders and viewers: the cockpit's summary ---------------------------------------------------------

def cockpit_summary(user, today: date) -> dict:
    """This year's headline figures of the whole county (crm.dashboard.figures.headline):
    {"period": label, "figures": [...]}; no figures while the cockpit has none to give."""
    from crm.dashboard.figures import headline
    from crm.dashboard.period import Period
    from crm.dashboard.scope import Scope
    from crm.dashboard.sections import Context

    period = Period.this_year()
    data = headline(Context(period=period, scope=Scope(), today=today, user=user)) or {}
    figures = [f for f in (data.get("figures") or []) if isinstance(f, dict) and f.get("label")]
    return {"period": period.label, "figures": figures}


# --- administrators ----------------------------------------------------------------------------------

@dataclass
class Task:
    key: str
    text: str
    url: str
    rows: list[Any] = field(default_factory=list)


def _import_tasks(today_moment) -> Task | None:
    from crm.interchange.models import ImportBatch, ImportStatus

    waiting = (ImportStatus.PREVIEWED.value, ImportStatus.QUEUED.value, ImportStatus.RUNNING.value)
    since = today_moment - timedelta(days=IMPORT_FAILED_DAYS)
    condition = (ImportBatch.status.in_(waiting)
                 | ((ImportBatch.status == ImportStatus.FAILED.value) & (ImportBatch.created_at >= since)))
    counts = dict(db.session.execute(select(ImportBatch.status, func.count()).where(condition)
                                     .group_by(ImportBatch.status)).all())
    if not counts:
        return None
    rows = db.session.scalars(select(ImportBatch).where(condition).options(joinedload(ImportBatch.unit))
                              .order_by(ImportBatch.id.desc()).limit(LIMIT)).all()
    failed = counts.get(ImportStatus.FAILED.value, 0)
    text = _("Imports: %(failed)s failed in the last %(days)s days, %(waiting)s waiting "
             "(for confirmation or in the queue).", failed=failed, days=IMPORT_FAILED_DAYS,
             waiting=sum(counts.values()) - failed)
    return Task("imports", text, url_for("interchange.imports"),
                [(b, str(IMPORT_STATE_LABELS.get(b.status, b.status))) for b in rows])


def _scoring_tasks() -> list[Task]:
    from crm.scoring.models import TARGET_LABELS, ModelStatus, ScoringModel, Target

    active = set(db.session.scalars(select(ScoringModel.target)
                                    .where(ScoringModel.status == ModelStatus.ACTIVE.value)))
    newest = select(ScoringModel.target, func.max(ScoringModel.version).label("version")) \
        .group_by(ScoringModel.target).subquery()
    last = {m.target: m for m in db.session.scalars(select(ScoringModel).join(
        newest, and_(newest.c.target == ScoringModel.target, newest.c.version == ScoringModel.version)))}
    tasks = []
    for target in Target:
        name = str(TARGET_LABELS[target])
        latest = last.get(target.value)
        if latest is not None and latest.status == ModelStatus.FAILED.value:
            tasks.append(Task(f"scoring-{target.value}", _(
                "The last training of the %(target)s model (version %(version)s) failed: %(reason)s",
                target=name, version=latest.version, reason=latest.reason or "—"), url_for("scoring.models")))
        elif target.value not in active:
            tasks.append(Task(f"scoring-{target.value}", _(
                "No %(target)s model is active: leads are scored by the rules until one is trained.",
                target=name), url_for("scoring.models")))
    return tasks


def _papers_task() -> Task | None:
    from crm.papers.forms import PaperSettingsForm
    from crm.papers.models import PaperKind
    from crm.papers.services import peek_settings

    names = {PaperKind.NOTICE: pgettext("paper kind", "one-time notice"),
             PaperKind.MINUTES: pgettext("paper kind", "minutes"),
             PaperKind.LETTER: pgettext("paper kind", "letters"),
             PaperKind.BULLETIN: pgettext("paper kind", "bulletins")}
    settings = peek_settings()
    # Only the kinds the settings page lets the admin fill in (a kind without a field is not
    # something the admin can act on).
    missing = [str(names[k]) for k in PaperKind
               if hasattr(PaperSettingsForm, f"{k.value}_issuer") and not settings.issuer(k)]
    if not missing:
        return None
    return Task("papers", _("Official papers without an issuer: %(kinds)s.", kinds="、".join(missing)),
                url_for("papers.settings"))


def _proposals_task() -> Task | None:
    from crm.decisions.models import Proposal, ProposalStatus

    count = db.session.scalar(select(func.count()).select_from(Proposal).join(Lead, Lead.id == Proposal.lead_id)
                              .where(Proposal.status == ProposalStatus.PENDING.value,
                                     Lead.stage == Stage.AWAITING_DECISION.value)) or 0
    if not count:
        return None
    return Task("proposals", _("%(count)s projects proposed by units wait to be put on an agenda.", count=count),
                url_for("decisions.meetings"))


def admin_tasks(user, today: date) -> list[Task]:
    """What an administrator (or the agenda's keeper) must see to, each with where to do it."""
    tasks: list[Task] = []
    if user.can(Permission.SCREENING_SETTINGS):
        from crm.screening.services import calendar_gaps

        for year in calendar_gaps(today):
            tasks.append(Task(f"calendar-{year}", _(
                "No holiday schedule is known for %(year)s: enter it before pre-screening deadlines fall "
                "in that year.", year=year), url_for("screening.calendar", year=year)))
    if user.can(Permission.LEADS_IMPORT) and user.can(Permission.LEADS_READ_ALL):
        task = _import_tasks(clock.now())
        if task:
            tasks.append(task)
    if user.can(Permission.SCORING_MANAGE):
        tasks.extend(_scoring_tasks())
    if user.can(Permission.PAPERS_SETTINGS):
        task = _papers_task()
        if task:
            tasks.append(task)
    if user.can(Permission.DECISIONS_MANAGE):
        from crm.decisions.access import keeps_agenda

        if keeps_agenda(user):
            task = _proposals_task()
            if task:
                tasks.append(task)
    return tasks


def has_admin_block(user) -> bool:
    return user.can(Permission.SCREENING_SETTINGS, Permission.SCORING_MANAGE, Permission.PAPERS_SETTINGS,
                    Permission.MANAGE_ACCOUNTS) or (user.can(Permission.LEADS_IMPORT)
                                                    and user.can(Permission.LEADS_READ_ALL))


# --- the page --------------------------------------------------------------------------------------

@dataclass
class Workbench:
    today: date
    now: datetime
    week: timedelta = timedelta(days=WEEK)
    follow_ups: dict[str, Listing] | None = None
    returned: Listing | None = None
    lights: Listing | None = None
    pipeline: dict[str, int] | None = None
    targets: tuple | None = None
    letters: Listing | None = None
    problems: Listing | None = None
    screening: Listing | None = None
    votes: Listing | None = None
    cockpit: dict | None = None
    admin: list[Task] | None = None
    whole_unit: bool = False

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in (
            "follow_ups", "returned", "lights", "letters", "problems", "screening", "votes", "cockpit", "admin"))


def build(user) -> Workbench:
    """Every block this user's capabilities call for."""
    today = clock.today()
    w = Workbench(today=today, now=clock.now())
    if user.can(Permission.LEADS_EDIT_UNIT):
        w.whole_unit = sees_whole_unit(user)
        w.follow_ups = follow_ups(user, today)
        w.returned = returned_leads(user)
        w.lights = lit_projects(user, today)
        w.pipeline = pipeline(user)
        if user.can(Permission.TARGETS_EDIT_UNIT):
            from crm.chains.queries import unit_targets

            w.targets = unit_targets(user.unit_id, limit=LIMIT)
            _attach_nodes(w.targets[1])
    if user.can(Permission.TRACKING_RESPOND):
        w.letters = unit_letters(user.unit_id, today)
        w.problems = unit_problems(user.unit_id, today)
    if user.can(Permission.SCREENING_ANSWER):
        w.screening = screening_cases(user.unit_id)
    if user.can(Permission.DECISIONS_VOTE):
        w.votes = pending_votes(user)
    if has_admin_block(user) or user.can(Permission.DECISIONS_MANAGE):
        tasks = admin_tasks(user, today)
        if tasks or has_admin_block(user):
            w.admin = tasks
    if user.can(Permission.DASHBOARD_READ_ALL):
        w.cockpit = cockpit_summary(user, today)
    return w


def full_follow_ups(user) -> dict[str, Listing]:
    return follow_ups(user, clock.today(), limit=FULL_LIMIT)


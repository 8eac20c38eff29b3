"""When a letter is due (DOMAIN.md "三函"): the rules as bulk queries over every tracked project.

- 提醒函 (reminder): a planned 开工 or 投产 (current plan, no actual yet) falls within the next
  `reminder_days_before` days (today excluded: on the planned day it is no longer "before").
- 交办函 (assignment): a planned 开工 or 投产 is `assignment_days_overdue` days or more in the
  past and still has no actual date.
- 督办函 (supervision): the project's light is red.

Tracked projects are those admitted up to producing (a terminated one is `lost`, so left out).
A milestone already reached by the stage (e.g. a started project's 开工) is never due. A letter
already written for the same project, milestone and kind is never due again: each is sent once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, exists, select

from crm.extensions import db
from crm.leads.models import Lead
from crm.leads.pipeline import Stage
from crm.letters.models import PROJECT_KEY, Letter, LetterKind
from crm.lights.models import Colour, ProjectLight
from crm.tracking.models import MilestoneActual, MilestonePlan, Milestone

TRACKED_STAGES = (Stage.ADMITTED, Stage.SIGNED, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING)
# The stages in which a milestone is still ahead (not reached).
AHEAD_IN = {
    Milestone.START: (Stage.ADMITTED, Stage.SIGNED),
    Milestone.PRODUCE: (Stage.ADMITTED, Stage.SIGNED, Stage.STARTED, Stage.COMPLETED),
}
LETTER_MILESTONES = tuple(AHEAD_IN)


@dataclass(frozen=True)
class DueLetter:
    lead_id: int
    kind: str
    milestone: str
    unit_id: int
    officer_id: int | None
    planned_on: date | None = None
    reasons: list = field(default_factory=list, compare=False, hash=False)


def _not_written(kind: str, milestone_col):
    return ~exists().where(Letter.lead_id == Lead.id, Letter.kind == kind, Letter.milestone == milestone_col)


def _milestone_letters(kind: LetterKind, milestone: Milestone, window) -> list[DueLetter]:
    query = (select(MilestonePlan.lead_id, MilestonePlan.planned_on, Lead.owner_unit_id, Lead.owner_id)
             .join(Lead, Lead.id == MilestonePlan.lead_id)
             .where(MilestonePlan.superseded_at.is_(None), MilestonePlan.milestone == milestone.value,
                    Lead.stage.in_([s.value for s in AHEAD_IN[milestone]]), window,
                    ~exists().where(MilestoneActual.lead_id == Lead.id,
                                    MilestoneActual.milestone == milestone.value),
                    _not_written(kind.value, milestone.value))
             .order_by(MilestonePlan.lead_id))
    return [DueLetter(lead_id, kind.value, milestone.value, unit_id, officer_id, planned_on)
            for lead_id, planned_on, unit_id, officer_id in db.session.execute(query)]


def due_letters(today: date, settings) -> list[DueLetter]:
    """Every letter due today and not yet written, in a few queries whatever the number of projects."""
    due: list[DueLetter] = []
    before = int(settings.reminder_days_before or 0)
    overdue = int(settings.assignment_days_overdue or 0)
    for milestone in LETTER_MILESTONES:
        if before > 0:
            due += _milestone_letters(LetterKind.REMINDER, milestone, and_(
                MilestonePlan.planned_on > today, MilestonePlan.planned_on <= today + timedelta(days=before)))
        due += _milestone_letters(LetterKind.ASSIGNMENT, milestone,
                                  MilestonePlan.planned_on <= today - timedelta(days=overdue))
    red = (select(ProjectLight.lead_id, ProjectLight.reasons, Lead.owner_unit_id, Lead.owner_id)
           .join(Lead, Lead.id == ProjectLight.lead_id)
           .where(ProjectLight.colour == Colour.RED.value, Lead.stage.in_([s.value for s in TRACKED_STAGES]),
                  _not_written(LetterKind.SUPERVISION.value, PROJECT_KEY))
           .order_by(ProjectLight.lead_id))
    due += [DueLetter(lead_id, LetterKind.SUPERVISION.value, PROJECT_KEY, unit_id, officer_id, None,
                      list(reasons or []))
            for lead_id, reasons, unit_id, officer_id in db.session.execute(red)]
    seen, unique = set(), []
    for item in due:  # two current plans of one milestone (should not happen) still make one letter
        key = (item.lead_id, item.kind, item.milestone)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique

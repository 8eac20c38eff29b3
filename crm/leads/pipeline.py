"""The lead pipeline (DOMAIN.md) declared as data: stages, labels and the allowed moves."""
from __future__ import annotations

from enum import StrEnum

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l


class Stage(StrEnum):
    LEAD = "lead"
    NEGOTIATING = "negotiating"
    SCREENING = "screening"
    AWAITING_DECISION = "awaiting_decision"
    ADMITTED = "admitted"
    SIGNED = "signed"
    STARTED = "started"
    COMPLETED = "completed"
    PRODUCING = "producing"
    ABOVE_SCALE = "above_scale"
    RETURNED = "returned"
    REJECTED = "rejected"
    LOST = "lost"


STAGE_LABELS = {
    Stage.LEAD: _l("Lead"),
    Stage.NEGOTIATING: _l("Negotiating"),
    Stage.SCREENING: _l("Pre-screening"),
    Stage.AWAITING_DECISION: _l("Awaiting decision"),
    Stage.ADMITTED: _l("Admitted"),
    Stage.SIGNED: _l("Signed"),
    Stage.STARTED: _l("Construction started"),
    Stage.COMPLETED: _l("Completed"),
    Stage.PRODUCING: _l("In production"),
    Stage.ABOVE_SCALE: _l("Above designated size"),
    Stage.RETURNED: _l("Returned for materials"),
    Stage.REJECTED: _l("Rejected"),
    Stage.LOST: _l("Terminated"),
}

# The Chinese names the interchange file and the offices use (import accepts these too).
STAGE_CHINESE = {
    Stage.LEAD: "线索", Stage.NEGOTIATING: "洽谈", Stage.SCREENING: "即时初审",
    Stage.AWAITING_DECISION: "待集体决策", Stage.ADMITTED: "同意落地", Stage.SIGNED: "签约",
    Stage.STARTED: "开工", Stage.COMPLETED: "竣工", Stage.PRODUCING: "投产",
    Stage.ABOVE_SCALE: "上规", Stage.RETURNED: "退回补充材料", Stage.REJECTED: "不同意",
    Stage.LOST: "终止",
}

MAIN_LINE = [Stage.LEAD, Stage.NEGOTIATING, Stage.SCREENING, Stage.AWAITING_DECISION,
             Stage.ADMITTED, Stage.SIGNED, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING,
             Stage.ABOVE_SCALE]

# Moves a person makes by hand. Entering and leaving pre-screening belongs to its workflow
# (crm.screening) and is listed apart, as is the collective decision's admitted/rejected
# (crm.decisions).
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.LEAD: frozenset({Stage.NEGOTIATING, Stage.LOST}),
    Stage.NEGOTIATING: frozenset({Stage.LOST}),
    Stage.SCREENING: frozenset({Stage.LOST}),  # an open case is withdrawn
    Stage.RETURNED: frozenset({Stage.NEGOTIATING, Stage.LOST}),
    Stage.AWAITING_DECISION: frozenset({Stage.LOST}),
    Stage.ADMITTED: frozenset({Stage.SIGNED, Stage.LOST}),
    Stage.SIGNED: frozenset({Stage.STARTED, Stage.LOST}),
    Stage.STARTED: frozenset({Stage.COMPLETED, Stage.LOST}),
    Stage.COMPLETED: frozenset({Stage.PRODUCING}),
    Stage.PRODUCING: frozenset({Stage.ABOVE_SCALE}),
    Stage.ABOVE_SCALE: frozenset(),
    Stage.REJECTED: frozenset(),
    Stage.LOST: frozenset(),
}

# Moves only a workflow makes: submitting to pre-screening, the case's closing, the decision.
WORKFLOW_TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.NEGOTIATING: frozenset({Stage.SCREENING}),
    Stage.RETURNED: frozenset({Stage.SCREENING}),
    Stage.SCREENING: frozenset({Stage.AWAITING_DECISION, Stage.RETURNED}),
    Stage.AWAITING_DECISION: frozenset({Stage.ADMITTED, Stage.REJECTED}),
}

TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
OPEN_STAGES = frozenset(Stage) - {Stage.LOST, Stage.REJECTED}


def rank(stage: str) -> int:
    """Position on the main line (side exits rank -1); 'at or after signed' uses this."""
    try:
        return MAIN_LINE.index(Stage(stage))
    except ValueError:
        return -1


def stage_label(stage: str) -> str:
    try:
        return str(STAGE_LABELS[Stage(stage)])
    except ValueError:
        return stage


_NAMES_BY_LOCALE: dict[str, dict[str, str]] = {}


def stage_names() -> dict[str, str]:
    """Every stage's label in the request's language as plain text, made once per language (the
    list shows one on each row; translating them afresh cost a page ~0.2 ms)."""
    locale = str(get_locale() or "")
    names = _NAMES_BY_LOCALE.get(locale)
    if names is None:
        names = _NAMES_BY_LOCALE[locale] = {s.value: str(label) for s, label in STAGE_LABELS.items()}
    return names


def can_move(current: str, target: str, workflow: bool = False) -> bool:
    table = WORKFLOW_TRANSITIONS if workflow else TRANSITIONS
    try:
        return Stage(target) in table.get(Stage(current), frozenset())
    except ValueError:
        return False


# Stages only a workflow sets (pre-screening, the collective decision): never a person, never an
# ordinary import.
WORKFLOW_STAGES = frozenset({Stage.SCREENING, Stage.AWAITING_DECISION, Stage.ADMITTED, Stage.REJECTED})

# What an ordinary import may give a lead it creates: the start of the pipeline, or terminated.
IMPORT_CREATE_STAGES = frozenset({Stage.LEAD, Stage.NEGOTIATING, Stage.LOST})

# The historical ledger import (administrators) records an office's past: outcomes with their
# dates, never a pre-screening case or a vote. Moves go forward along the main line (or to
# terminated), and never from a stage whose case or meeting is open.
HISTORY_STAGES = frozenset({Stage.LEAD, Stage.NEGOTIATING, Stage.SIGNED, Stage.STARTED, Stage.COMPLETED,
                            Stage.PRODUCING, Stage.ABOVE_SCALE, Stage.LOST})
HISTORY_FROM = frozenset({Stage.LEAD, Stage.NEGOTIATING, Stage.RETURNED, Stage.ADMITTED, Stage.SIGNED,
                          Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING})


def can_record_history(current: str | None, target: str) -> bool:
    """May the historical ledger import bring a lead at `current` (None: a new lead) to `target`?"""
    try:
        target_stage = Stage(target)
    except ValueError:
        return False
    if target_stage not in HISTORY_STAGES:
        return False
    if current is None:
        return True
    current_stage = Stage(current)
    if current_stage not in HISTORY_FROM:
        return False
    if target_stage == Stage.LOST:
        return True
    return rank(target_stage) > rank(current_stage) or (
        current_stage == Stage.RETURNED and rank(target_stage) > rank(Stage.NEGOTIATING))



def history_path(current: str | None, target: str, signed_on=None, started_on=None) -> list[tuple[str | None, str]]:
    """The (from, to) rows a historical record writes: through 签约 and 开工 when the target lies
    beyond them, or a terminated lead whose ledger dates them; then the target. A new lead
    starts as 线索."""
    steps: list[tuple[str | None, str]] = []
    at = current
    if at is None:
        steps.append((None, Stage.LEAD.value))
        at = Stage.LEAD.value
    final = Stage(target)
    for milestone, dated in ((Stage.SIGNED, signed_on), (Stage.STARTED, started_on)):
        reaches = rank(final) > rank(milestone) or (final == Stage.LOST and dated is not None)
        if final != milestone and reaches and rank(at) < rank(milestone):
            steps.append((at, milestone.value))
            at = milestone.value
    if at != final.value:
        steps.append((at, final.value))
    return steps

"""What an import row may do to a lead's stage, through the pipeline's one rule
(crm.leads.services.check_move / change_stage).

An ordinary import creates leads as 线索, 洽谈 or 终止 and moves a stored lead only as an officer
may by hand; the stages of pre-screening and the collective decision are never set by it. The
historical ledger import (administrators) records outcomes with the ledger's dates, marked as
history, and never opens or closes a case or a meeting.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from crm.interchange.rows import CheckedRow, Match
from crm.leads import services as lead_services
from crm.leads.models import Lead
from crm.leads.pipeline import (HISTORY_STAGES, IMPORT_CREATE_STAGES, WORKFLOW_STAGES, Stage, history_path,
                                rank, stage_label)

STAGE = "阶段"
_DATE_COLUMNS = (("signed_on", "签约日期", Stage.SIGNED), ("started_on", "开工日期", Stage.STARTED))
# A case or an agenda is open while a lead sits here: the ledger import leaves such a lead alone.
_OPEN_WORKFLOW = frozenset({Stage.SCREENING, Stage.AWAITING_DECISION})


def check_create(row: CheckedRow, history: bool) -> None:
    v = row.values
    stage = v.get("stage") or Stage.LEAD.value
    if history:
        if Stage(stage) not in HISTORY_STAGES:
            row.errors.append((STAGE, _history_stages_message(stage)))
            return
        _require_dates(row, None, stage)
        first = min((d for d in (v.get("signed_on"), v.get("started_on")) if d), default=None)
        if v.get("created_on") and first and v["created_on"] > first:
            row.errors.append(("录入日期", _("The recording date is after the signing or start date.")))
        return
    if Stage(stage) not in IMPORT_CREATE_STAGES:
        row.errors.append((STAGE, _workflow_message(stage) if Stage(stage) in WORKFLOW_STAGES else
                           _("An import creates leads as 线索, 洽谈 or 终止 only; outcomes such as "
                             "“%(stage)s” are loaded by an administrator's historical ledger import.",
                             stage=stage_label(stage))))
        return
    for key, header, milestone in _DATE_COLUMNS:
        if v.get(key):
            row.errors.append((header, _("This date is recorded only when the lead moves to “%(stage)s”.",
                                         stage=stage_label(milestone))))


def check_update(row: CheckedRow, match: Match, history: bool) -> None:
    v = row.values
    current, target = match.stage, v.get("stage")
    moving = bool(target) and target != current
    if moving:
        if history and Stage(current) in _OPEN_WORKFLOW:
            row.errors.append((STAGE, _("The lead is at “%(stage)s”; a historical ledger import does not close "
                                        "its pre-screening case or meeting.", stage=stage_label(current))))
            return
        if history and Stage(target) not in HISTORY_STAGES:
            row.errors.append((STAGE, _history_stages_message(target)))
            return
        if not history and Stage(target) in WORKFLOW_STAGES:
            row.errors.append((STAGE, _workflow_message(target)))
            return
        if not history and current == Stage.SCREENING and target == Stage.NEGOTIATING:
            row.errors.append((STAGE, _("The lead is in pre-screening and its case is open; an import cannot "
                                        "move it back to negotiation.")))
            return
        try:
            lead_services.check_move(current, target, history=history)
        except lead_services.LeadError as exc:
            row.errors.append((STAGE, str(exc)))
            return
    if history and moving:
        _require_dates(row, current, target)
    # A milestone's date comes with the move to it; a stored date is changed by no import.
    for key, header, milestone in _DATE_COLUMNS:
        given, stored = v.get(key), getattr(match, key)
        if given is None or given == stored:
            continue
        reaches = moving and any(to == milestone for _f, to in history_path(
            current, target, v.get("signed_on"), v.get("started_on"))) if history else target == milestone and moving
        if not reaches:
            row.errors.append((header, _("This date is recorded only when the lead moves to “%(stage)s”.",
                                         stage=stage_label(milestone))))
    signed = v.get("signed_on") or match.signed_on
    if moving and v.get("started_on") and signed and v["started_on"] < signed:
        row.errors.append(("开工日期", _("Construction cannot start before the signing date.")))


def _require_dates(row: CheckedRow, current: str | None, target: str) -> None:
    steps = {to for _f, to in history_path(current, target, row.values.get("signed_on"),
                                            row.values.get("started_on"))}
    if (Stage.SIGNED in steps or (current is None and rank(target) > rank(Stage.SIGNED))) \
            and not row.values.get("signed_on"):
        row.errors.append(("签约日期", _("A historical ledger needs the signing date of a signed project.")))
    if (Stage.STARTED in steps or (current is None and rank(target) > rank(Stage.STARTED))) \
            and not row.values.get("started_on"):
        row.errors.append(("开工日期", _("A historical ledger needs the start date of a started project.")))


def _workflow_message(stage: str) -> str:
    return _("“%(stage)s” is set only by pre-screening or the collective decision, never by an import.",
             stage=stage_label(stage))


def _history_stages_message(stage: str) -> str:
    return _("A historical ledger records 线索, 洽谈, 签约, 开工, 竣工, 投产, 上规 or 终止; not “%(stage)s”.",
             stage=stage_label(stage))


# --- writing -----------------------------------------------------------------------------------

def created_on(values: dict, history: bool, today: date) -> date:
    """The recording day of a new lead: the file's; for a ledger without one, its first date."""
    if values.get("created_on"):
        return values["created_on"]
    if history:
        return min((d for d in (values.get("signed_on"), values.get("started_on")) if d), default=today)
    return today


def created_changes(lead_id: int, values: dict, history: bool, user_id: int, now, reason: str) -> list[dict]:
    """The stage rows of a lead an import creates. Ordinary: one row, recorded now. Ledger: the
    path through 签约/开工 dated from the file, each row marked as history."""
    if not history:
        return [{"lead_id": lead_id, "from_stage": None, "to_stage": values["stage"], "changed_by_id": user_id,
                 "changed_at": now, "reason": reason, "history": False}]
    days = {Stage.LEAD.value: values["created_on"], Stage.NEGOTIATING.value: values["created_on"],
            Stage.SIGNED.value: values.get("signed_on"), Stage.STARTED.value: values.get("started_on")}
    rows = []
    for from_stage, to_stage in history_path(None, values["stage"], values.get("signed_on"),
                                             values.get("started_on")):
        day = days.get(to_stage)
        rows.append({"lead_id": lead_id, "from_stage": from_stage, "to_stage": to_stage, "changed_by_id": user_id,
                     "changed_at": lead_services.history_moment(day) if day else now,
                     "reason": values.get("lost_reason") if to_stage == Stage.LOST.value else reason,
                     "history": True})
    return rows


def move(lead: Lead, row: CheckedRow, user, history: bool) -> None:
    """Move a stored lead as the row says, through change_stage (history, hooks and all)."""
    v = row.values
    target = v.get("stage")
    if not target or target == lead.stage:
        return
    if not history:
        on_date = v.get("signed_on") if target == Stage.SIGNED else (
            v.get("started_on") if target == Stage.STARTED else None)
        reason = v.get("lost_reason") if target == Stage.LOST else None
        lead_services.change_stage(lead, target, user, reason=reason, on_date=on_date)
        return
    days = {Stage.SIGNED.value: v.get("signed_on"), Stage.STARTED.value: v.get("started_on")}
    for _from, to_stage in history_path(lead.stage, target, v.get("signed_on"), v.get("started_on")):
        reason = v.get("lost_reason") if to_stage == Stage.LOST else None
        lead_services.change_stage(lead, to_stage, user, reason=reason, on_date=days.get(to_stage), history=True)

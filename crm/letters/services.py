"""The rules of letters (三函): writing one (numbered, addressed, dated for reply), 签收 and 反馈.
Services change state and flush, never commit: the request or the job commits."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm import clock
from crm.auth.roles import Role
from crm.extensions import db
from crm.formatting import cn_date
from crm.leads.models import Lead
from crm.letters import access
from crm.letters.models import Letter, LetterKind
from crm.letters.queries import numbers_for
from crm.letters.triggers import DueLetter
from crm.notifications.services import notify_many, unit_users_with_role
from crm.papers.models import PaperKind
from crm.papers.services import local_day, number_for, number_many
from crm.validation import OutOfRange, check_text

REPLY_LIMIT = 4000


class LetterError(ValueError):
    """A rule refused the action: the message says which (status for the API)."""

    def __init__(self, message: str, field: str | None = None, status: int = 409):
        super().__init__(message)
        self.field = field
        self.status = status


def letter_path(letter_id: int) -> str:
    return f"/letters/{letter_id}"


def reply_due(issued_on: date, working_days: int, calendar) -> date:
    """The last day to reply: `working_days` working days after the letter's day (that day not
    counted), by the same calendar as pre-screening. Raises UnknownYearError for an unknown year."""
    if working_days < 1:
        return issued_on
    return calendar.add_working_days(issued_on, working_days)


def reasons_text(reasons: list | None, on: date | None = None) -> str:
    """The light's reasons in words as of `on` (the letter's day), one a line:
    crm.lights.rules.describe(reason, on=…) when it exists, else the reason's code with its
    figures (never nothing: a red light always has a reason)."""
    lines = []
    try:
        from crm.lights.rules import describe
    except ImportError:
        describe = None
    for reason in reasons or []:
        text = None
        if describe is not None:
            try:
                text = str(describe(reason, on=on) if on is not None else describe(reason))
            except Exception:  # noqa: BLE001  (another signature: fall back to the code)
                text = None
        if not text:
            code = reason.get("code", "") if isinstance(reason, dict) else str(reason)
            params = reason.get("params") if isinstance(reason, dict) else None
            text = code + (f"（{'，'.join(f'{k}: {v}' for k, v in params.items())}）" if params else "")
        lines.append(text)
    return "\n".join(lines) or _("The project's light is red.")


def _new_letter(due: DueLetter, issued_on: date, reply_due_on: date) -> Letter:
    return Letter(lead_id=due.lead_id, kind=due.kind, milestone=due.milestone, unit_id=due.unit_id,
                  issued_on=issued_on, planned_on=due.planned_on, reply_due_on=reply_due_on,
                  reasons=reasons_text(due.reasons, issued_on) if due.kind == LetterKind.SUPERVISION else None)


def write_letter(due: DueLetter, issued_on: date, reply_due_on: date) -> Letter | None:
    """Write and number one letter; None when it exists already (a concurrent run wrote it)."""
    letter = _new_letter(due, issued_on, reply_due_on)
    try:
        with db.session.begin_nested():
            db.session.add(letter)
            db.session.flush()
    except IntegrityError:
        return None  # once per project, milestone and kind: the unique constraint decided
    number_for(PaperKind.LETTER, letter.id, issued_on)
    return letter


def write_letters(dues: list[DueLetter], issued_on: date, reply_due_on: date) -> list[tuple[Letter, DueLetter]]:
    """Write and number many letters in one INSERT each; if a concurrent run wrote one of them
    meanwhile (the unique constraint refuses the batch), one at a time, skipping those."""
    letters = [_new_letter(due, issued_on, reply_due_on) for due in dues]
    try:
        with db.session.begin_nested():
            db.session.add_all(letters)
            db.session.flush()
    except IntegrityError:
        made = [(write_letter(due, issued_on, reply_due_on), due) for due in dues]
        return [(letter, due) for letter, due in made if letter is not None]
    number_many(PaperKind.LETTER, [letter.id for letter in letters], issued_on)
    return list(zip(letters, dues))


def notify_written(letters: list[tuple[Letter, DueLetter]]) -> int:
    """Tell the addressed unit's team leads and the project's officer (one INSERT)."""
    if not letters:
        return 0
    team_leads = unit_users_with_role({letter.unit_id for letter, _due in letters}, Role.TEAM_LEAD)
    numbers = numbers_for(letter.id for letter, _due in letters)
    names = {lead_id: project or company for lead_id, project, company in db.session.execute(
        select(Lead.id, Lead.project_name, Lead.company_name).where(
            Lead.id.in_({letter.lead_id for letter, _due in letters})))}
    items = []
    for letter, due in letters:
        users = list(team_leads.get(letter.unit_id, []))
        if due.officer_id:
            users.append(due.officer_id)
        params = {"number": numbers.get(letter.id, ""),
                  "project": names.get(letter.lead_id, ""),
                  "planned": cn_date(letter.planned_on) if letter.planned_on else "",
                  "due": letter.reply_due_on.isoformat()}
        items.append((users, f"letter_{letter.kind}", params, letter_path(letter.id)))
    return notify_many(items)


def _lock(letter: Letter) -> None:
    """Read the letter again under a row lock: two clicks at once cannot both acknowledge."""
    db.session.refresh(letter, with_for_update=True)


def acknowledge(letter: Letter, user) -> Letter:
    """签收: once, by a responder of the addressed unit; who and when are recorded."""
    if not access.may_respond(user, letter):
        raise LetterError(_("Only the unit the letter is addressed to acknowledges it."), status=403)
    _lock(letter)
    if letter.acknowledged_at is not None:
        raise LetterError(_("This letter was already acknowledged by %(name)s on %(day)s.",
                            name=letter.acknowledged_by.display_name if letter.acknowledged_by else "—",
                            day=cn_date(local_day(letter.acknowledged_at))))
    letter.acknowledged_by_id = user.id
    letter.acknowledged_at = clock.now()
    db.session.flush()
    return letter


def reply(letter: Letter, user, text: str | None) -> Letter:
    """反馈: the unit's progress, once. Replying to a letter not yet acknowledged acknowledges it
    too (the same person, at the same moment): a reply is proof of receipt."""
    if not access.may_respond(user, letter):
        raise LetterError(_("Only the unit the letter is addressed to replies to it."), status=403)
    try:
        text = check_text((text or "").strip(), REPLY_LIMIT)
    except OutOfRange as exc:
        raise LetterError(str(exc), field="reply", status=422) from exc
    if not text:
        raise LetterError(_("Write the progress of the project in the reply."), field="reply", status=422)
    _lock(letter)
    if letter.replied_at is not None:
        raise LetterError(_("This letter was already answered by %(name)s on %(day)s.",
                            name=letter.replied_by.display_name if letter.replied_by else "—",
                            day=cn_date(letter.replied_on)))
    now = clock.now()
    if letter.acknowledged_at is None:
        letter.acknowledged_by_id = user.id
        letter.acknowledged_at = now
    letter.reply = text
    letter.replied_by_id = user.id
    letter.replied_at = now
    letter.replied_on = clock.today()
    db.session.flush()
    return letter

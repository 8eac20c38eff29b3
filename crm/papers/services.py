"""Official papers: the issuer settings and document numbers (rules: change state and flush,
never commit — the request or the job commits)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from crm import clock
from crm.extensions import db
from crm.papers.models import DocumentCounter, DocumentNumber, PaperKind, PaperSettings

SETTING_FIELDS = ("notice_issuer", "minutes_issuer", "notice_prefix", "minutes_prefix", "letter_issuer",
                  "letter_prefix", "bulletin_issuer", "bulletin_prefix")


# --- settings ---------------------------------------------------------------------------------

def get_settings() -> PaperSettings:
    """The one settings row (made empty on first use: the papers then show a placeholder)."""
    settings = db.session.get(PaperSettings, 1)
    if settings is None:
        settings = PaperSettings(id=1, **{name: "" for name in SETTING_FIELDS})
        db.session.add(settings)
        db.session.flush()
    return settings


def peek_settings() -> PaperSettings:
    """The settings for reading: an unsaved empty row when none exists (no write on a GET)."""
    return db.session.get(PaperSettings, 1) or PaperSettings(
        id=1, **{name: "" for name in SETTING_FIELDS})


def save_settings(data: dict) -> PaperSettings:
    settings = get_settings()
    for name in SETTING_FIELDS:
        if name in data:
            setattr(settings, name, (data[name] or "").strip())
    db.session.flush()
    return settings


# --- document numbers ---------------------------------------------------------------------------

def existing_number(kind: str, subject_id: int) -> DocumentNumber | None:
    return db.session.scalar(select(DocumentNumber).where(DocumentNumber.kind == kind,
                                                          DocumentNumber.subject_id == subject_id))


def _next_in_sequence(kind: str, year: int, count: int = 1) -> int:
    """Increment the (kind, year) counter by `count` and return the new value (the last of the
    `count` numbers taken). The UPDATE holds the row's write lock until the transaction ends
    (PostgreSQL; SQLite locks the whole file), so two transactions never get the same value; the
    first of a year inserts the row, and a concurrent first insert loses on the primary key and
    increments instead."""
    bump = (update(DocumentCounter).where(DocumentCounter.kind == kind, DocumentCounter.year == year)
            .values(last=DocumentCounter.last + count).returning(DocumentCounter.last))
    for _attempt in range(3):
        value = db.session.execute(bump).scalar()
        if value is not None:
            return value
        try:
            with db.session.begin_nested():
                db.session.execute(insert(DocumentCounter).values(kind=kind, year=year, last=count))
            return count
        except IntegrityError:
            continue  # someone else inserted the year's row just now: increment theirs
    raise RuntimeError(f"document counter {kind}/{year} could not be incremented")


def number_for(kind: str, subject_id: int, issued_on: date | None = None) -> DocumentNumber:
    """The subject's number: the one it has, or the next of its kind for the year of
    `issued_on` (the day the paper is dated; today by default). Never two for one subject."""
    kind = PaperKind(kind).value
    found = existing_number(kind, subject_id)
    if found is not None:
        return found
    issued_on = issued_on or clock.today()
    prefix = peek_settings().prefix(kind)
    try:
        with db.session.begin_nested():
            value = _next_in_sequence(kind, issued_on.year)
            row = DocumentNumber(kind=kind, year=issued_on.year, number=value, subject_id=subject_id,
                                 prefix=prefix, issued_on=issued_on)
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        # Numbered by a concurrent request meanwhile: the savepoint took our increment back.
        found = existing_number(kind, subject_id)
        if found is None:
            raise
        return found
    return row


def number_many(kind: str, subject_ids, issued_on: date) -> dict[int, DocumentNumber]:
    """Numbers for many subjects dated the same day (the night's letters), in one counter bump and
    one INSERT; those already numbered keep theirs. Same rules as number_for."""
    kind = PaperKind(kind).value
    ids = list(dict.fromkeys(subject_ids))
    found = {row.subject_id: row for row in db.session.scalars(select(DocumentNumber).where(
        DocumentNumber.kind == kind, DocumentNumber.subject_id.in_(ids)))} if ids else {}
    todo = [subject for subject in ids if subject not in found]
    if not todo:
        return found
    prefix = peek_settings().prefix(kind)
    try:
        with db.session.begin_nested():
            last = _next_in_sequence(kind, issued_on.year, len(todo))
            rows = [DocumentNumber(kind=kind, year=issued_on.year, number=last - len(todo) + 1 + n, subject_id=subject,
                                   prefix=prefix, issued_on=issued_on) for n, subject in enumerate(todo)]
            db.session.add_all(rows)
            db.session.flush()
    except IntegrityError:
        # One was numbered by a concurrent request meanwhile: one at a time, as number_for does.
        return {**found, **{subject: number_for(kind, subject, issued_on) for subject in todo}}
    return {**found, **{row.subject_id: row for row in rows}}


def number_text(number: DocumentNumber | None, kind: str) -> str:
    if number is None:
        return ""
    return number.text(peek_settings().prefix(kind))


# --- when a subject closes ----------------------------------------------------------------------

def local_day(moment) -> date | None:
    return moment.astimezone(clock.local_zone()).date() if moment is not None else None


def number_closed_case(case) -> DocumentNumber | None:
    """A closed screening case's notice number (given now if it has none yet)."""
    if case is None or case.status != "closed" or case.closed_at is None:
        return None
    return number_for(PaperKind.NOTICE, case.id, local_day(case.closed_at))


def minutes_day(meeting) -> date:
    """The day the minutes are dated: the day the meeting closed, else the day it met."""
    return local_day(meeting.closed_at) or meeting.meeting_on


def number_closed_meeting(meeting) -> DocumentNumber | None:
    if meeting is None or meeting.status != "closed":
        return None
    return number_for(PaperKind.MINUTES, meeting.id, minutes_day(meeting))


def on_case_closed(sender=None, case_id: int | None = None, **_extra) -> None:
    from crm.screening.models import ScreeningCase

    if case_id is not None:
        number_closed_case(db.session.get(ScreeningCase, case_id))


def on_meeting_closed(sender=None, meeting_id: int | None = None, **_extra) -> None:
    from crm.decisions.models import Meeting

    if meeting_id is not None:
        number_closed_meeting(db.session.get(Meeting, meeting_id))


def connect_signals() -> None:
    """Connected once per process (blinker keeps one connection per receiver)."""
    from crm import signals

    signals.screening_case_closed.connect(on_case_closed)
    signals.meeting_closed.connect(on_meeting_closed)


def issuer_placeholder() -> str:
    return _("[Issuer not set: an administrator enters it under Official papers settings]")


# --- what heads a paper -------------------------------------------------------------------------

@dataclass
class PaperHead:
    """The issuer, number and date of one paper, as both the page and the Word file print them."""

    kind: str
    issuer: str            # the issuing organ's full name; "" until an admin sets it
    number: str            # 将招初审〔2026〕12号; "" for a draft
    issued_on: date
    draft: bool = False

    @property
    def issuer_missing(self) -> bool:
        return not self.issuer

    @property
    def issuer_line(self) -> str:
        return self.issuer or issuer_placeholder()


def notice_head(case) -> PaperHead:
    """The notice of a closed case (numbered now if it has no number yet)."""
    number = number_closed_case(case)
    issued = number.issued_on if number else (local_day(case.closed_at) or clock.today())
    return PaperHead(PaperKind.NOTICE.value, peek_settings().issuer(PaperKind.NOTICE),
                     number_text(number, PaperKind.NOTICE), issued, draft=number is None)


def minutes_head(meeting) -> PaperHead:
    """The minutes: numbered once the meeting has closed; in session they are a draft."""
    number = number_closed_meeting(meeting)
    issued = number.issued_on if number else minutes_day(meeting)
    return PaperHead(PaperKind.MINUTES.value, peek_settings().issuer(PaperKind.MINUTES),
                     number_text(number, PaperKind.MINUTES), issued, draft=number is None)


def letter_head(letter) -> PaperHead:
    """A letter (三函) is numbered when it is written; one given before this existed is numbered now."""
    number = number_for(PaperKind.LETTER, letter.id, letter.issued_on)
    return PaperHead(PaperKind.LETTER.value, peek_settings().issuer(PaperKind.LETTER),
                     number_text(number, PaperKind.LETTER), number.issued_on)


def bulletin_head(bulletin, issuer: str = "") -> PaperHead:
    """A bulletin (督查通报) is numbered when it is made; one made before this existed is numbered now.
    `issuer`: the issuer as it stood when the bulletin was made (its snapshot); the current setting
    when none was set then."""
    number = number_for(PaperKind.BULLETIN, bulletin.id, bulletin.issued_on)
    return PaperHead(PaperKind.BULLETIN.value, issuer or peek_settings().issuer(PaperKind.BULLETIN),
                     number_text(number, PaperKind.BULLETIN), number.issued_on)


def recent_numbers(limit: int = 20) -> list[tuple[DocumentNumber, str]]:
    """The numbers given last, with their text, for the settings page."""
    rows = db.session.scalars(select(DocumentNumber).order_by(DocumentNumber.id.desc()).limit(limit))
    return [(row, number_text(row, row.kind)) for row in rows]

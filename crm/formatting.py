"""Jinja filters and globals shared by every page."""
from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user


def amount(value, places: int = 2) -> str:
    """A figure in 万元 or 亩 with thousands separators; unknown stays visibly unknown."""
    if value is None:
        return "—"
    value = Decimal(value)
    text = f"{value:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


_TZ = ZoneInfo("Asia/Shanghai")


def local_datetime(value) -> str:
    """County time, minutes; plain strftime (Babel's formatter costs ~0.1 ms a cell)."""
    return value.astimezone(_TZ).strftime("%Y-%m-%d %H:%M") if value else "—"


def cn_date(value) -> str:
    """A date as official papers write it (GB/T 9704): 2026年12月5日, no leading zeros."""
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月{value.day}日"


# --- deadlines: said one way everywhere -----------------------------------------------------------
#
# A deadline is the end of its day: "2026年12月9日（星期三）24:00 前" (English: "by 24:00 on
# Wednesday 9 December 2026"). Screening, letters, problems, decisions and notifications all
# say it through `deadline`; a sentence puts it where the date goes ("请于%(due)s反馈").

_WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
             _l("Sunday"))
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _zh() -> bool:
    return str(get_locale() or "zh").startswith("zh")


def as_day(value) -> date | None:
    """A date from a date, a datetime (its county day) or the text of one (2026-12-09, or
    2026年12月9日 as older notifications stored it); None when it is none of these."""
    import re

    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(_TZ).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def long_date(value) -> str:
    """2026年12月9日（星期三） / Wednesday 9 December 2026."""
    day = as_day(value)
    if day is None:
        return "—" if value in (None, "") else str(value)
    weekday = str(_WEEKDAYS[day.weekday()])
    if _zh():
        return f"{cn_date(day)}（{weekday}）"
    return f"{weekday} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def deadline(value) -> str:
    """The one way a deadline is said: the end of that day, with its weekday."""
    day = as_day(value)
    if day is None:
        return "—" if value in (None, "") else str(value)
    weekday = str(_WEEKDAYS[day.weekday()])
    if _zh():
        return _("by 24:00 on %(date)s", date=f"{cn_date(day)}（{weekday}）")
    return _("by 24:00 on %(date)s", date=f"{weekday} {day.day} {_MONTHS[day.month - 1]} {day.year}")


# --- shares: 过半数, 三分之二以上 -------------------------------------------------------------------

_FRACTIONS = ((1, 2), (2, 3), (3, 4), (3, 5), (4, 5), (1, 3), (1, 4))
_CN_DIGITS = "零一二三四五六七八九十"
_EN_FRACTIONS = {(1, 2): "half", (2, 3): "two thirds", (3, 4): "three quarters", (3, 5): "three fifths",
                 (4, 5): "four fifths", (1, 3): "one third", (1, 4): "one quarter"}
_LARGEST_GROUP = 99  # the shares are checked against every count up to this


def share_words(fraction) -> str:
    """The words of a rule "more than `fraction` of …" as councils say it: 过半数 (more than
    half), 三分之二以上 (at least two thirds) or 超过三分之二, when the rule counts the same for
    every group of up to 99; otherwise the percentage (超过 60%)."""
    import math
    from fractions import Fraction

    if fraction is None:
        return "—"
    f = Fraction(Decimal(str(fraction)))
    needed = [math.floor(f * n) + 1 for n in range(1, _LARGEST_GROUP + 1)]  # strictly more than the share
    for p, q in _FRACTIONS:
        share = Fraction(p, q)
        more = [math.floor(share * n) + 1 for n in range(1, _LARGEST_GROUP + 1)]
        at_least = [math.ceil(share * n) for n in range(1, _LARGEST_GROUP + 1)]
        if needed == more:
            if (p, q) == (1, 2):
                return _("more than half")
            return _("more than %(share)s", share=_fraction_name(p, q))
        if needed == at_least:
            if (p, q) == (1, 2):
                return _("at least half")
            return _("at least %(share)s", share=_fraction_name(p, q))
    return _("more than %(p)s%%", p=amount(Decimal(str(fraction)) * 100, 1))


def _fraction_name(p: int, q: int) -> str:
    if _zh():
        return f"{_CN_DIGITS[q]}分之{_CN_DIGITS[p]}"
    return _EN_FRACTIONS[(p, q)]


def top_bar_columns(user_id) -> tuple:
    """The top bar's figures as columns: the user's unread notifications, then the grade
    cut-offs A, B and C. `user_id` is a value, a parameter or the users' id column (the session
    user's statement reads them too, by create_app's seam)."""
    from crm.notifications.services import unread_count_expression
    from crm.scoring.settings import cutoff_expressions

    return (unread_count_expression(user_id), *cutoff_expressions())


@functools.cache
def _top_bar_statement():
    # Built on first use (the features' models are mapped by then), then reused.
    from sqlalchemy import bindparam, select

    return select(*top_bar_columns(bindparam("user_id")))


def keep_top_bar_figures(values) -> None:
    """The top bar's figures read elsewhere in this request (by the session user's statement), in
    the order of top_bar_columns: used while the session writes nothing more."""
    from flask import g

    from crm.database import writes
    from crm.extensions import db
    from crm.scoring.settings import cutoffs_from

    g.crm_top_bar_figures = ({"unread": values[0] or 0, "cutoffs": cutoffs_from(*values[1:])},
                             writes(db.session()))


def _top_bar_figures() -> dict:
    """The signed-in user's unread notifications and the grade cut-offs, read once per request
    (with the session user, or in one statement of their own): every page shows the first, list
    and lead pages the second. Read again when the session wrote since, which may have changed
    them (a notification made or read, the cut-offs saved)."""
    from flask import g

    from crm.database import writes
    from crm.extensions import db

    kept = g.get("crm_top_bar_figures")
    if kept is None or kept[1] != writes(db.session()):
        signed_in = current_user and current_user.is_authenticated
        # No user: `user_id = NULL` matches no notification, so the count is 0.
        row = db.session.execute(_top_bar_statement(), {"user_id": current_user.id if signed_in else None}).one()
        keep_top_bar_figures(tuple(row))
        kept = g.crm_top_bar_figures
    return kept[0]


def grade_cutoffs_text() -> str:
    """The line under every grade: what each grade means now."""
    c = _top_bar_figures()["cutoffs"]
    pct = {k: amount(Decimal(str(v)) * 100, 1) for k, v in c.items()}
    return _("Grades by the chance of signing: A from %(a)s%%, B from %(b)s%%, C from %(c)s%%, D below %(c)s%%.",
             a=pct["A"], b=pct["B"], c=pct["C"])


def yes_no(value) -> str:
    if value is None:
        return "—"
    return _("Yes") if value else _("No")


def _audit_action(action: str) -> str:
    labels = {"create": _("Created"), "update": _("Changed"), "delete": _("Deleted"),
              "stage": _("Stage changed"), "login": _("Logged in"), "logout": _("Logged out")}
    return labels.get(action, action)


def _field_labels() -> dict:
    from crm.leads.forms import LeadForm

    labels = {}
    for name in LeadForm.LEAD_FIELDS + ("stage", "lost_reason", "signed_on", "started_on"):
        unbound = getattr(LeadForm, name, None)
        if unbound is not None and unbound.args:
            labels[name] = unbound.args[0]
    return labels


def register(app) -> None:
    from crm.auth.roles import ROLE_LABELS, Permission
    from crm.i18n import LANGUAGE_NAMES

    app.jinja_env.filters["amount"] = amount
    app.jinja_env.filters["yes_no"] = yes_no
    app.jinja_env.filters["cn_date"] = cn_date
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["date"] = lambda v: v.isoformat() if v else "—"
    app.jinja_env.filters["role_label"] = lambda r: str(ROLE_LABELS.get(r, r))
    app.jinja_env.filters["deadline"] = deadline
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["share_words"] = share_words
    app.jinja_env.globals["grade_cutoffs_text"] = grade_cutoffs_text
    from crm.leads.pipeline import stage_label

    labels = _field_labels()
    app.jinja_env.globals.update(stage_label=stage_label, audit_action=_audit_action,
                                 field_label=lambda key: str(labels.get(key, key)))

    def unread_notifications() -> int:
        return _top_bar_figures()["unread"] if current_user.is_authenticated else 0

    app.jinja_env.globals["unread_notifications"] = unread_notifications

    @app.context_processor
    def _globals():
        return {"Permission": Permission, "LANGUAGE_NAMES": LANGUAGE_NAMES,
                "current_locale": str(get_locale() or "zh"), "current_user": current_user}

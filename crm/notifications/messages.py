"""The wording of each kind of notification; rendered in the reader's language when shown."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    "screening_asked": _l("Pre-screening: %(company)s was submitted to your unit; answer %(due)s."),
    "screening_reminder": _l("Reminder: one working day is left to give your opinion on %(company)s "
                             "(answer %(due)s)."),
    "screening_closed": _l("Pre-screening of %(company)s closed: %(result)s."),
    "screening_no_calendar": _l("The holiday schedule for %(year)s is not entered: the pre-screening "
                                "deadline of %(company)s cannot be computed. Enter it in the holiday table."),
    "meeting_scheduled": _l("Leadership group meeting “%(title)s” scheduled for %(day)s."),
    "decision_proposed": _l("%(company)s is proposed for the leadership group's agenda."),
    "decision_admitted": _l("The leadership group admitted %(company)s (%(meeting)s).%(conditions)s"),
    "decision_rejected": _l("The leadership group did not admit %(company)s (%(meeting)s).%(conditions)s"),
    "light_red": _l("%(company)s: the traffic light turned red (%(count)s reasons). See the project page."),
    "light_yellow": _l("%(company)s: the traffic light turned yellow (%(count)s reasons). See the project page."),
    "light_green": _l("%(company)s: the traffic light is green again."),
    "problem_assigned": _l("Problem list: a problem of %(company)s was assigned to your unit; solve it %(due)s."),
    "problem_solved": _l("Problem list: the problem you raised on %(company)s was solved."),
    "letter_reminder": _l("Reminder letter %(number)s on %(project)s: a start or production is planned for "
                          "%(planned)s. Acknowledge it and reply %(due)s."),
    "letter_assignment": _l("Assignment letter %(number)s on %(project)s: the start or production planned for "
                            "%(planned)s is overdue. Acknowledge it and reply %(due)s."),
    "letter_supervision": _l("Supervision letter %(number)s on %(project)s: the project is red. Acknowledge it "
                             "and reply %(due)s."),
    "letters_no_calendar": _l("The holiday schedule for %(year)s is not entered: %(count)s letters due today "
                              "cannot be dated for their reply and were not written. Enter it in the holiday table."),
}


def render(kind: str, params: dict) -> str:
    template = MESSAGES.get(kind)
    if template is None:
        return kind
    values = dict(params or {})
    if values.get("conditions"):
        from flask_babel import gettext

        values["conditions"] = gettext(" Conditions: %(text)s", text=values["conditions"])
    if values.get("due"):  # stored as a date (older ones as 2026年12月9日): said as every deadline is
        from crm.formatting import deadline

        values["due"] = deadline(values["due"])
    if "result" in values:
        from crm.screening.models import RESULT_LABELS

        values["result"] = str(RESULT_LABELS.get(values["result"], values["result"]))
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template)

"""Who sees a contact's personal data (phone, WeChat, e-mail): the owner unit, leaders and
administrators. Everyone else who reads the lead (viewers of other units; screeners through
their cases) sees the contact's name and title only."""
from __future__ import annotations

from crm.auth.roles import Permission

_READS_LEADS = (Permission.LEADS_READ_UNIT, Permission.LEADS_READ_ALL)


def sees_personal_data(user, unit_id: int | None) -> bool:
    """May `user` see the personal data of the contacts of a lead owned by `unit_id`?"""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.can(Permission.CONTACTS_READ_ALL):
        return True
    return unit_id is not None and user.unit_id == unit_id and user.can(*_READS_LEADS)


def personal_unit_condition(user, unit_column):
    """SQL: the rows whose unit's contacts the user may see (True: all, False: none), for queries
    that read many leads at once (the export)."""
    from sqlalchemy import false, true

    if user.can(Permission.CONTACTS_READ_ALL):
        return true()
    if getattr(user, "unit_id", None) is None or not user.can(*_READS_LEADS):
        return false()
    return unit_column == user.unit_id

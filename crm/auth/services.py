"""Accounts: the rules. They change state and flush; the request commits."""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from crm.audit.listener import record
from crm.auth.models import ApiToken, Unit, User
from crm.database import utcnow
from crm.extensions import db


class AccountError(ValueError):
    """A rule about accounts was broken; the message is shown to the user."""


class UserCompanion(NamedTuple):
    """Figures every page shows beside the session user, read in the user's statement (one round
    trip less per request): `columns(user_id)` gives the columns, correlated to the user's id,
    `receive(values)` keeps what they read. Filled in by create_app (crm.formatting's top bar)."""

    columns: Callable[[Any], Sequence[Any]]
    receive: Callable[[Sequence[Any]], None]


@functools.cache
def _session_user_statement(companion: UserCompanion | None):
    # Built once (with the token as a parameter) instead of on every request.
    extra = companion.columns(User.id) if companion else ()
    return (select(User, *extra).options(joinedload(User.role_rows))
            .where(User.session_token == bindparam("token")))


def load_user_by_session_token(token: str, companion: UserCompanion | None = None) -> User | None:
    if not token:
        return None
    # Every request asks: the roles in the same statement as the user and the unit (their own
    # loader would run a second query each time).
    row = db.session.execute(_session_user_statement(companion), {"token": token}).unique().first()
    if row is None or not row[0].active:
        return None
    if companion:
        companion.receive(tuple(row[1:]))
    return row[0]


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


_DUMMY_HASH: list[str] = []


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right. An unknown name costs the same hash check, so the
    answer's time does not tell whether the account exists."""
    user = find_user(username)
    if user is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(generate_password_hash("not-a-password"))
        check_password_hash(_DUMMY_HASH[0], password)
        return None
    return user if user.check_password(password) else None


def unlock_logins(user: User) -> None:
    """The admin's unlock: failed logins on the account forgotten (audited)."""
    from crm.auth import throttle

    throttle.unlock(user.username)
    record(db.session, "unlock_login", "users", user.id)
    db.session.flush()


def create_user(username: str, password: str, unit: Unit, roles, full_name: str = "",
                email: str | None = None, locale: str = "zh") -> User:
    from flask_babel import gettext as _

    if find_user(username) is not None:
        raise AccountError(_("The username %(name)s is taken.", name=username))
    if len(password) < 8:
        raise AccountError(_("The password must have at least 8 characters."))
    from crm.validation import OutOfRange, check_email

    try:
        email = check_email(email)
    except OutOfRange as exc:
        raise AccountError(str(exc)) from exc
    user = User(username=username.strip(), full_name=full_name.strip(), email=email or None,
                unit=unit, locale=locale, active=True)
    user.set_password(password)
    user.roles = roles
    db.session.add(user)
    db.session.flush()
    return user


def set_active(user: User, active: bool) -> None:
    user.active = active
    if not active:
        user.end_sessions()  # a disabled user's open sessions end at once
    db.session.flush()


def change_password(user: User, new_password: str) -> None:
    from flask_babel import gettext as _

    if len(new_password) < 8:
        raise AccountError(_("The password must have at least 8 characters."))
    user.set_password(new_password)
    user.end_sessions()
    db.session.flush()


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    record(db.session, "login", "users", user.id)
    db.session.flush()


def record_logout(user: User) -> None:
    user.end_sessions()  # the copied cookie of this session (and any other) stops working
    record(db.session, "logout", "users", user.id)
    db.session.flush()


def issue_api_token(user: User, name: str, days: int | None) -> tuple[ApiToken, str]:
    expires = utcnow() + timedelta(days=days) if days else None
    token, raw = ApiToken.issue(user, name.strip(), expires)
    db.session.add(token)
    db.session.flush()
    return token, raw


def revoke_api_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def user_for_api_token(raw: str) -> User | None:
    token = db.session.scalar(ApiToken.lookup_stmt(raw))
    if token is None or not token.is_usable() or not token.user.active:
        return None
    token.last_used_at = utcnow()
    return token.user

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from crm.auth.roles import Permission, Role, permissions_for
from crm.database import Base, utcnow


class UnitKind(StrEnum):
    TOWN = "town"
    DEPARTMENT = "department"
    INVESTMENT_GROUP = "investment_group"
    PARK = "park"


UNIT_KIND_LABELS = {
    UnitKind.TOWN: _l("Town"),
    UnitKind.DEPARTMENT: _l("Department"),
    UnitKind.INVESTMENT_GROUP: _l("Investment group"),
    UnitKind.PARK: _l("Park"),
}


class Unit(Base):
    __tablename__ = "units"
    __audit__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list["User"]] = relationship(back_populates="unit")

    @property
    def kind_label(self) -> str:
        return str(UNIT_KIND_LABELS.get(self.kind, self.kind))

    def __repr__(self) -> str:
        return f"<Unit {self.name}>"


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))


def _new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(Base):
    __tablename__ = "users"
    __audit__ = True
    __audit_secret__ = {"password_hash", "session_token"}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    # Flask-Login "alternative token": changing it ends every session of this user (logout,
    # disabling, password change), so a copied cookie stops working.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=_new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship(back_populates="users", lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                      order_by=UserRole.id)

    # --- Flask-Login -----------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def end_sessions(self) -> None:
        self.session_token = _new_session_token()

    # --- passwords and roles ---------------------------------------------------------------
    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def roles(self) -> list[str]:
        return [r.role for r in self.role_rows]

    @roles.setter
    def roles(self, values) -> None:
        wanted = [Role(v).value for v in dict.fromkeys(values)]
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=v) for v in wanted if v not in self.roles
        ]

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.roles)

    def can(self, *perms: Permission) -> bool:
        """True when the user holds any of the given permissions."""
        mine = self.permissions
        return any(p in mine for p in perms)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username}>"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored, the raw value is shown once."""

    __tablename__ = "api_tokens"
    __audit__ = True
    __audit_secret__ = {"token_hash"}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    PREFIX = "crm_"

    @classmethod
    def issue(cls, user: User, name: str, expires_at: datetime | None) -> tuple["ApiToken", str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, token_hash=hash_token(raw), prefix=raw[:10],
                    expires_at=expires_at)
        return token, raw

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now

    @staticmethod
    def lookup_stmt(raw: str):
        return select(ApiToken).where(ApiToken.token_hash == hash_token(raw))

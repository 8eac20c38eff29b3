from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from crm.auth.models import User
from crm.database import Base, utcnow
from crm.leads.models import Lead

# Personal data (DOMAIN.md): shown, exported and sent by the API only to readers who may see it
# (crm.contacts.access), masked in the audit log for the others.
PERSONAL_FIELDS = ("phone", "wechat", "email")

CONTACT_LABELS = {
    "name": _l("Contact"), "title": _l("Job title"), "phone": _l("Phone"), "wechat": _l("WeChat"),
    "email": _l("E-mail"), "note": _l("Note on the contact"), "is_primary": _l("Primary contact"),
}


class LeadContact(Base):
    """A person of the investor met by the lead's unit: name, title, phone, WeChat, e-mail, note.
    A lead with contacts has exactly one primary contact (the interchange file's 联系人)."""

    __tablename__ = "lead_contacts"
    __audit__ = True
    # Filed in the audit log under its lead (entity "leads", action contact_create/_update/_delete),
    # so the lead's history shows it, named in every entry.
    __audit_parent__ = ("leads", "lead_id", "contact")
    __audit_always__ = ("name",)
    __audit_ignore__ = frozenset({"import_batch_id"})  # bookkeeping of the import's undo

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    title: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(40))
    wechat: Mapped[str | None] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The import that added it (undo removes it); cleared when a person edits it.
    import_batch_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lead: Mapped[Lead] = relationship(backref=backref(
        "contacts", order_by="(LeadContact.is_primary.desc(), LeadContact.id)",
        cascade="all, delete-orphan", passive_deletes=True))
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<LeadContact {self.id} {self.name} of lead {self.lead_id}>"


# At most one primary contact per lead (the services keep "exactly one when there are any").
Index("uq_lead_contacts_primary", LeadContact.lead_id, unique=True,
      sqlite_where=LeadContact.is_primary == true(), postgresql_where=LeadContact.is_primary == true())

"""The kinds of record files can be attached to. Each feature describes its kind (how to load
the record, who may read it, who may add files, whether it is still open, its label and link);
create_app fills the registry through `crm.attachments.kinds.register_attachment_kinds(app)`.
Nothing registers itself by being imported."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app


@dataclass(frozen=True)
class AttachmentKind:
    name: str                                   # stored as Attachment.owner_kind
    load: Callable[[int], Any]                  # owner id → the record, or None
    may_read: Callable[[Any, Any], bool]        # (user, record): may see the record and its files
    may_upload: Callable[[Any, Any], bool]      # (user, record): may add a file now
    is_open: Callable[[Any], bool]              # files may be removed only while it is open
    label: Callable[[Any], str]                 # e.g. "初审 · 福建某某有限公司 · 第 1 轮"
    link: Callable[[Any], str]                  # the record's page (a path)


_KEY = "crm_attachment_kinds"


def register_kind(app, kind: AttachmentKind) -> None:
    kinds = app.extensions.setdefault(_KEY, {})
    if kind.name in kinds:
        raise RuntimeError(f"attachment kind {kind.name!r} registered twice")
    kinds[kind.name] = kind


def get_kind(name: str) -> AttachmentKind | None:
    return current_app.extensions.get(_KEY, {}).get(name)


def kind_names() -> list[str]:
    return sorted(current_app.extensions.get(_KEY, {}))

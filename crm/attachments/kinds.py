"""The one seam create_app calls: every kind of record that takes attachments, registered
explicitly (the next features add their kind here), plus the template helper and the session
hooks that keep files in step with the transaction."""
from __future__ import annotations

from flask import Flask


def register_attachment_kinds(app: Flask) -> None:
    from crm.attachments import storage
    from crm.attachments.registry import register_kind
    from crm.attachments.services import install_session_hooks
    from crm.attachments.views import bp
    from crm.decisions.attachments import AGENDA
    from crm.screening.attachments import KINDS as SCREENING_KINDS

    for kind in (*SCREENING_KINDS, AGENDA):
        register_kind(app, kind)
    app.register_blueprint(bp)
    storage.ensure_directory(app)
    install_session_hooks()

    @app.template_global("attachment_panel_for")
    def attachment_panel_for(kind: str, owner_id: int):
        """For the panel macro: the record's files and what the current user may do."""
        from crm.attachments.queries import panel
        from crm.auth.permissions import acting_user

        return panel(kind, owner_id, acting_user())

"""The top bar's menu (templates/_nav.html), rendered once per kind of page and reader.

The menu is ~20 links, each a permission check, a url_for and a translation: about a twentieth
of a list page's time when rendered afresh on every request. Its HTML depends only on what the
key below holds, so each app keeps the last few hundred renderings (per process). A change of
role gives new permissions and so a new key; nothing has to be invalidated.
"""
from __future__ import annotations

from functools import lru_cache

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup


def _render(_key: tuple) -> Markup:
    # Rendered in the request that first asks for this key; the key holds all it reads.
    return Markup(render_template("_nav.html"))


def menu_key() -> tuple:
    """What _nav.html reads: the reader's permissions and unit (the unit desk's link), the
    language, where the app is mounted (url_for), and the page (which group and link are
    highlighted)."""
    return (current_user.permissions, current_user.unit_id, str(get_locale()), request.script_root,
            request.blueprint, request.endpoint, request.path)


def top_menu() -> Markup:
    if current_app.jinja_env.auto_reload:  # debug: an edited _nav.html shows at once
        return _render(())
    return current_app.extensions["crm_top_menu"](menu_key())


def register(app) -> None:
    app.extensions["crm_top_menu"] = lru_cache(maxsize=512)(_render)  # per app: tests make many
    app.jinja_env.globals["top_menu"] = top_menu

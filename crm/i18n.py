"""Language: Chinese by default; each user picks theirs on the profile page."""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import get_translations
from flask_login import current_user

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGE_NAMES:
        return current_user.locale
    wanted = request.cookies.get("lang") if request else None
    if wanted in LANGUAGE_NAMES:
        return wanted
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _request_translations():
    """Flask-Babel's translations for this request, looked up once per language.

    Flask-Babel's own template callables find the request's Babel state, its domain and its
    locale anew for every `_()`: a list page has some 80 of them, about 8 µs each. The result is
    kept on Babel's per-request namespace beside the locale it was found for; force_locale puts
    another Locale object there, so a forced language is looked up afresh and so is the request's
    own when it is restored."""
    try:
        state = g._get_current_object().__dict__.get("_flask_babel")
    except RuntimeError:  # no app context: Flask-Babel's NullTranslations
        return get_translations()
    if state is not None:
        kept = state.__dict__.get("crm_translations")
        if kept is not None and kept[0] is state.__dict__.get("babel_locale"):
            return kept[1]
    translations = get_translations()  # sets g._flask_babel and its babel_locale
    state = g._flask_babel
    state.crm_translations = (state.__dict__.get("babel_locale"), translations)
    return translations


def install_template_gettext(app) -> None:
    """Called by create_app after Babel's init_app: the same callables as Flask-Babel's
    (newstyle, so `%` formatting and autoescaping stay as they were), through
    _request_translations."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def compile_catalogs(translations_dir) -> None:
    """Compile each messages.po to .mo when the .mo is missing or older (cheap stat per start)."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(translations_dir).glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh)
        try:
            with mo.open("wb") as fh:
                write_mo(fh, catalog)
        except OSError:  # read-only install: the packaged .mo has to do
            pass

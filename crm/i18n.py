"""Language: Chinese by default; each user picks theirs on the profile page."""
from __future__ import annotations

from flask import current_app, request
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

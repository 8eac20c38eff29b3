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

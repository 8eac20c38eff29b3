"""Failed logins: growing delays per (account, address), never a lock-out of the account.

Each account has one Redis hash, one field per address: "<failures>:<time of the last one>". The
wait is computed from those and crm.clock, so nothing sleeps and tests can move the clock. A
correct password from another address is never slowed by an attacker's guesses; an admin's
unlock deletes the account's hash.
"""
from __future__ import annotations

from flask import current_app

from crm import clock
from crm.extensions import redis_store


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
    raw = redis_store.client.hget(_key(account), address)
    if not raw:
        return 0, 0.0
    count, _, last = raw.decode().partition(":")
    return int(count), float(last)


def wait_seconds(account: str, address: str) -> int:
    """How long this address must still wait before trying this account again (0: go ahead)."""
    count, last = _read(account, address)
    remaining = last + delay_for(count) - clock.now().timestamp()
    return max(int(remaining + 0.999), 0)


def record_failure(account: str, address: str) -> int:
    """Count a failure; returns the wait it starts."""
    count, _last = _read(account, address)
    count += 1
    key = _key(account)
    pipe = redis_store.client.pipeline()
    pipe.hset(key, address, f"{count}:{clock.now().timestamp()}")
    # Forgotten a while after the longest wait: an old typo does not slow a login next week.
    pipe.expire(key, current_app.config["LOGIN_DELAY_MAX_SECONDS"] + 24 * 3600)
    pipe.execute()
    return delay_for(count)


def clear(account: str, address: str) -> None:
    """A successful login from this address forgets its failures."""
    redis_store.client.hdel(_key(account), address)


def failures(account: str) -> int:
    """All counted failures on the account, from every address (shown on the admin's page)."""
    values = redis_store.client.hvals(_key(account))
    return sum(int(v.decode().partition(":")[0]) for v in values)


def unlock(account: str) -> None:
    """The admin's unlock: every address may try the account again at once."""
    redis_store.client.delete(_key(account))

"""The lead list's total, cached in Redis until the data changes (crm.leads.counts): reused while
nothing is written, fresh after a write, never shared between users who see different leads,
and right when Redis is away."""
from __future__ import annotations

import re

import pytest

from crm.extensions import db, redis_store
from crm.leads import counts
from tests import factories
from tests.own_redis import app_on_own_redis

TOTAL = re.compile(r'data-testid="lead-total">\D*(\d+)')


@pytest.fixture()
def count_cache_on(app):
    app.config["LEAD_COUNT_CACHE_SECONDS"] = 600
    app.config["LEAD_COUNT_CACHE_MIN"] = 0  # the tests' totals are small
    counts._paused_until = 0.0
    yield
    app.config["LEAD_COUNT_CACHE_SECONDS"] = None
    app.config["LEAD_COUNT_CACHE_MIN"] = counts.DEFAULT_MIN
    counts._paused_until = 0.0


def total(client, **args) -> int:
    response = client.get("/leads", query_string=args)
    assert response.status_code == 200
    return int(TOTAL.search(response.get_data(as_text=True)).group(1))


def cached_keys(app) -> list[str]:
    with app.app_context():
        return sorted(k.decode() for k in redis_store.client.scan_iter(match=f"{app.config['REDIS_PREFIX']}:leads:count:*"))


def add_lead(app, owner_id: int) -> None:
    """A lead written through the app's session, as a request or a job writes one."""
    from crm.auth.models import User

    with app.app_context():
        factories.lead(owner=db.session.get(User, owner_id))
        db.session.commit()  # (the test's savepoint; the outer transaction is still rolled back)


@pytest.fixture()
def two_units(db_session):
    officer_a = factories.user()
    officer_b = factories.user()
    for _ in range(3):
        factories.lead(owner=officer_a)
    factories.lead(owner=officer_b)
    return officer_a, officer_b


def test_a_cached_total_is_reused_while_nothing_is_written(app, client, two_units, count_cache_on, monkeypatch):
    officer_a, _b = two_units
    client.login(officer_a)
    assert total(client) == 3
    keys = cached_keys(app)
    assert len(keys) == 1

    def no_count(_conds):
        raise AssertionError("counted again although nothing changed")

    monkeypatch.setattr(counts, "count_leads", no_count)
    assert total(client) == 3
    assert total(client, sort="company") == 3  # another sort: the same total, the same entry
    assert cached_keys(app) == keys


def test_a_new_lead_makes_the_next_total_fresh(app, client, two_units, count_cache_on):
    officer_a, _b = two_units
    client.login(officer_a)
    assert total(client) == 3
    add_lead(app, officer_a.id)
    assert total(client) == 4
    assert total(client) == 4


def test_users_who_see_different_leads_never_share_a_total(app, make_client, two_units, count_cache_on):
    officer_a, officer_b = two_units
    leader = factories.user(roles=["leader"])
    clients = {}
    for user in (officer_a, officer_b, leader):
        clients[user.id] = make_client()
        clients[user.id].login(user)
    for _ in range(2):  # the second round reads what the first stored
        assert total(clients[officer_a.id]) == 3
        assert total(clients[officer_b.id]) == 1
        assert total(clients[leader.id]) == 4
    assert len(cached_keys(app)) == 3


def test_each_filter_has_its_own_total(app, client, two_units, count_cache_on):
    officer_a, _b = two_units
    client.login(officer_a)
    assert total(client) == 3
    assert total(client, stage="negotiating") == 0
    assert total(client, q="no such company") == 0
    assert total(client) == 3
    assert len(cached_keys(app)) == 3


def test_small_totals_are_counted_not_stored(app, client, two_units, count_cache_on):
    app.config["LEAD_COUNT_CACHE_MIN"] = 4
    officer_a, _b = two_units
    client.login(officer_a)
    assert total(client) == 3
    assert cached_keys(app) == []
    add_lead(app, officer_a.id)
    assert total(client) == 4
    assert len(cached_keys(app)) == 1


def test_off_unless_turned_on_under_testing(app, client, two_units):
    client.login(two_units[0])
    assert total(client) == 3
    assert cached_keys(app) == []


@pytest.fixture()
def redis_away(app):
    """The app's Redis is a server of this test's own, stopped (the suite's Redis is untouched)."""
    with app_on_own_redis(app) as server:
        yield server


def test_with_redis_away_the_total_is_still_right(app, client, two_units, count_cache_on, redis_away):
    officer_a, _b = two_units
    client.login(officer_a)  # while Redis answers (the login's throttle)
    assert total(client) == 3
    redis_away.stop()
    assert total(client) == 3
    add_lead(app, officer_a.id)  # the writer does not fail either
    assert total(client) == 4


def test_a_bulk_insert_moves_the_data_version(app, db_session):
    """COPY (PostgreSQL) goes past the session's events; bulk_insert raises the version itself."""
    from crm import data_version
    from crm.auth.models import Unit
    from crm.bulk import bulk_insert
    from crm.database import utcnow
    from crm.notifications.models import Notification

    with app.app_context():
        user = factories.user()
        before = data_version.version()
        bulk_insert(db.session, Notification.__table__,
                    [{"user_id": user.id, "kind": "test", "params": {}, "created_at": utcnow()}])
        assert data_version.version() == before  # a table no cached figure reads
        bulk_insert(db.session, Unit.__table__, [{"name": "批量测试镇", "kind": "town", "active": True, "created_at": utcnow()}])
        assert data_version.version() > before


_FRESH = """
from sqlalchemy import event
from sqlalchemy.orm import Session
import crm.data_version as dv
before = event.contains(Session, 'after_flush', dv._after_flush)
from crm import create_app
create_app({'DATABASE_URL': 'sqlite://', 'SECRET_KEY': 'x', 'TESTING': True})
print(before, event.contains(Session, 'after_flush', dv._after_flush),
      event.contains(Session, 'do_orm_execute', dv._on_execute))
"""


def test_the_data_version_is_connected_by_create_app_not_by_an_import(tmp_path):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "CRM_INSTANCE_PATH": str(tmp_path), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _FRESH], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False True True", out.stderr[-2000:]

"""Redis away is a degraded mode, not an outage: logins and saves work, pages that need Redis
answer 503 with a clear message. The app is pointed at a Redis of the test's own, then it is
stopped (the suite's shared Redis is never touched)."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.leads.models import Lead
from tests import factories
from tests.own_redis import app_on_own_redis

AWAY = "后台任务服务暂时不可用，已保存的内容不受影响，请稍后再试。"


@pytest.fixture()
def own_redis(app):
    """The app's Redis (client, rate limiter, throttle) is a server of this test's own."""
    with app_on_own_redis(app) as server:
        yield server


def _warnings(caplog, text):
    return [r for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


def test_login_works_with_redis_away_and_the_fallback_is_logged_once(app, client, own_redis, caplog):
    user = factories.user()
    db.session.flush()
    own_redis.stop()
    caplog.set_level(logging.INFO)

    response = client.post("/login", {"username": user.username, "password": "wrong one"})
    assert response.status_code == 401  # the wrong password is told, not a 500
    client.login(user)
    client.post("/logout")
    client.login(user)

    assert len(_warnings(caplog, "falling back to in-memory storage")) == 1
    assert len(_warnings(caplog, "counting failed logins in memory")) == 1


def test_failed_logins_are_still_slowed_in_memory_with_redis_away(app, client, own_redis):
    user = factories.user()
    db.session.flush()
    own_redis.stop()
    free = app.config["LOGIN_FREE_FAILURES"]
    codes = [client.post("/login", {"username": user.username, "password": "wrong"}).status_code
             for _ in range(free)]
    assert codes[:-1] == [401] * (free - 1) and codes[-1] == 429
    response = client.post("/login", {"username": user.username, "password": "wrong"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_the_throttle_goes_back_to_redis_when_it_returns(app, client, own_redis):
    from crm.auth import throttle

    user = factories.user()
    db.session.flush()
    own_redis.stop()
    client.post("/login", {"username": user.username, "password": "wrong"})
    assert throttle.memory.away
    own_redis.start()
    client.post("/login", {"username": user.username, "password": "wrong"})
    assert not throttle.memory.away
    assert list(own_redis.client().scan_iter(match="*login-failures*"))


def test_saving_a_lead_with_redis_away_works_and_the_score_waits(app, client, own_redis):
    from tests.test_leads import _lead_form

    officer = factories.user()
    db.session.flush()
    client.login(officer)
    own_redis.stop()
    response = client.post("/leads/new", _lead_form(owner_id=str(officer.id)))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    lead = db.session.scalars(select(Lead)).one()
    assert lead.score_pending  # the periodic score-pending job scores it once Redis is back


def _training_kept_for_later() -> bool:
    from crm.outbox import OutboxJob

    return db.session.scalar(select(OutboxJob.id).where(OutboxJob.func == "crm.scoring.jobs.train_model",
                                                        OutboxJob.finished_at.is_(None))) is not None


def test_train_now_with_redis_away_is_kept_for_when_it_returns(app, client, own_redis):
    """Since the outbox (crm.outbox) a training asked for while Redis is away is accepted and
    recorded; the sweeper of `crm worker` enqueues it once Redis answers (tests/test_outbox.py)."""
    admin = factories.user(roles=("admin",))
    db.session.flush()
    client.login(admin)
    own_redis.stop()
    response = client.post("/scoring/train")
    assert response.status_code == 302
    assert _training_kept_for_later()


def test_the_api_keeps_a_training_for_when_redis_returns(app, own_redis, db_session):
    from crm.auth.services import issue_api_token

    admin = factories.user(roles=("admin",))
    _token, raw = issue_api_token(admin, "test", 30)
    db.session.flush()
    own_redis.stop()
    response = app.test_client().post("/api/v1/scoring/train", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 202
    assert _training_kept_for_later()


def test_import_progress_answers_503_with_redis_away(app, client, own_redis):
    from crm.interchange.models import ImportBatch

    officer = factories.user()
    batch = ImportBatch(created_by_id=officer.id, unit_id=officer.unit_id, filename="线索.xlsx",
                        stored_path="/nonexistent/线索.xlsx", sha256="0" * 64, status="running",
                        total_rows=10)
    db.session.add(batch)
    db.session.flush()
    client.login(officer)
    own_redis.stop()
    for url in (f"/imports/{batch.id}", f"/imports/{batch.id}/progress"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert AWAY in response.get_data(as_text=True)


def test_the_ceiling_per_address_holds_in_memory_with_redis_away(app, client, own_redis, monkeypatch):
    """A sweep over many accounts from one address is stopped with Redis away too."""
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", "3 per 15 minutes")
    own_redis.stop()
    codes = [client.post("/login", {"username": f"nobody{n}", "password": "wrong"}).status_code
             for n in range(5)]
    assert codes == [401, 401, 401, 429, 429]

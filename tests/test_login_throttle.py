"""Finding 6: wrong passwords slow that account from that address; nobody is locked out."""
from __future__ import annotations

from sqlalchemy import select

from tests import factories
from tests.conftest import CSRFClient

T0 = "2026-12-01T09:00:00+08:00"


def _from(app, address: str) -> CSRFClient:
    client = CSRFClient(app.test_client())
    client.raw.environ_base["REMOTE_ADDR"] = address
    return client


def _wrong(client, user, n):
    return [client.post("/login", {"username": user.username, "password": f"wrong{i}"}).status_code
            for i in range(n)]


def test_failures_bring_a_growing_wait_not_a_lock(app, client, db_session, clock_at):
    clock_at(T0)
    user = factories.user()
    assert _wrong(client, user, 4) == [401] * 4
    response = client.post("/login", {"username": user.username, "password": "wrong5"})
    assert response.status_code == 429  # the fifth failure starts a 30-second wait
    assert response.headers["Retry-After"] == "30"
    assert "30 秒后再试" in response.get_data(as_text=True)
    # During the wait even the right password is not checked; the answer says how long is left.
    clock_at("2026-12-01T09:00:20+08:00")
    response = client.post("/login", {"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 429 and response.headers["Retry-After"] == "10"
    assert factories.reload(user).last_login_at is None
    # After the wait one more wrong guess doubles it …
    clock_at("2026-12-01T09:00:31+08:00")
    response = client.post("/login", {"username": user.username, "password": "wrong6"})
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"
    # … and the right password after that wait logs in and forgets the failures.
    clock_at("2026-12-01T09:01:32+08:00")
    client.login(user)


def test_the_wait_is_capped(app, db_session, clock_at):
    from crm.auth import throttle

    with app.app_context():
        assert [throttle.delay_for(n) for n in (4, 5, 6, 7, 9, 10, 500)] == [0, 30, 60, 120, 480, 900, 900]


def test_the_owner_from_another_address_is_not_slowed(app, client, db_session, clock_at):
    clock_at(T0)
    admin = factories.user(roles=["admin"])
    assert set(_wrong(client, admin, 12)[5:]) == {429}  # an attacker's address waits …
    _from(app, "10.0.0.9").login(admin)  # … the admin at the office logs in at once


def test_an_office_behind_one_address_is_not_locked_out_by_thirty_failures(app, db_session, clock_at):
    clock_at(T0)
    office = _from(app, "10.1.1.1")
    for _ in range(8):  # eight colleagues each mistype their password a few times
        assert _wrong(office, factories.user(), 4) == [401] * 4
    office.login(factories.user())


def test_the_address_ceiling_stops_a_sweep(app, db_session, clock_at):
    clock_at(T0)
    sweeper = _from(app, "10.2.2.2")
    codes = []
    for _ in range(16):
        codes += _wrong(sweeper, factories.user(), 4)
    assert codes[:60] == [401] * 60 and set(codes[60:]) == {429}  # the suite's ceiling: 60 a window
    response = sweeper.post("/login", {"username": factories.user().username, "password": factories.PASSWORD})
    assert response.status_code == 429 and "此地址" in response.get_data(as_text=True)


def test_admin_unlocks_an_account_and_it_is_audited(app, client, db_session, clock_at):
    from crm.audit.models import AuditEntry

    clock_at(T0)
    user = factories.user()
    attacker = _from(app, "10.3.3.3")
    assert _wrong(attacker, user, 6)[-2:] == [429, 429]  # the 6th is refused unchecked (not counted)
    admin = factories.user(roles=["admin"])
    client.login(admin)
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "登录失败次数：5" in page
    response = client.post(f"/admin/users/{user.id}/unlock")
    assert response.status_code == 302
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.action == "unlock_login",
                                                      AuditEntry.entity_id == user.id)) is not None
    attacker.login(user)  # no wait any more, from that address either


def test_unlock_needs_an_admin(client, db_session):
    user = factories.user()
    client.login(factories.user(roles=["team_lead"]))
    assert client.post(f"/admin/users/{user.id}/unlock").status_code == 403


def test_unknown_user_costs_the_same_hash_check(client, db_session, monkeypatch):
    import werkzeug.security

    from crm.auth import services

    calls = []
    real = werkzeug.security.check_password_hash

    def counting(hash_, password):
        calls.append(hash_.split("$", 1)[0])
        return real(hash_, password)

    monkeypatch.setattr(services, "check_password_hash", counting)
    monkeypatch.setattr("crm.auth.models.check_password_hash", counting)
    user = factories.user()
    assert client.post("/login", {"username": user.username, "password": "wrong"}).status_code == 401
    assert client.post("/login", {"username": "nobody-here", "password": "wrong"}).status_code == 401
    assert len(calls) == 2 and calls[0] == calls[1]  # one check each, with the same hash method

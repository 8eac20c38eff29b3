"""Login, logout, sessions, rate limits, cookies and headers."""
from tests import factories


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/leads")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_login_and_logout(client, db_session):
    user = factories.user()
    response = client.login(user)
    assert response.location == "/"
    assert client.get("/leads").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/leads").status_code == 302


def test_password_is_stored_hashed(db_session):
    user = factories.user()
    assert factories.PASSWORD not in user.password_hash
    assert user.check_password(factories.PASSWORD)


def test_wrong_password_gets_a_clear_message_in_chinese(client, db_session):
    user = factories.user()
    response = client.post("/login", {"username": user.username, "password": "nope-nope"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_session_cookie_replayed_after_logout_is_refused(app, client, db_session):
    user = factories.user()
    client.login(user)
    cookie = client.get_cookie("session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/leads").status_code == 302  # back to the login page


def test_disabling_a_user_ends_their_sessions(make_client, db_session):
    admin = factories.user(roles=["admin"])
    victim = factories.user()
    victim_client = make_client()
    victim_client.login(victim)
    assert victim_client.get("/leads").status_code == 200
    admin_client = make_client()
    admin_client.login(admin)
    response = admin_client.post(f"/admin/users/{victim.id}", {
        "username": victim.username, "full_name": victim.full_name, "unit_id": victim.unit_id,
        "roles": ["officer"], "password": ""})  # "active" unticked
    assert response.status_code == 302
    assert victim_client.get("/leads").status_code == 302
    response = victim_client.post("/login", {"username": victim.username, "password": factories.PASSWORD})
    assert "账号已停用" in response.get_data(as_text=True)


def test_other_accounts_from_another_address_still_log_in(app, client, db_session):
    user = factories.user()
    other = factories.user()
    for i in range(12):
        client.post("/login", {"username": user.username, "password": f"wrong{i}"})
    fresh = client.raw.application.test_client()
    from tests.conftest import CSRFClient

    other_client = CSRFClient(fresh)
    other_client.raw.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    other_client.login(other)


def test_login_form_without_csrf_token_is_refused(client, db_session):
    user = factories.user()
    response = client.post("/login", {"username": user.username, "password": factories.PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert client.get("/leads").status_code == 302


def test_cookies_are_httponly_and_samesite_lax(client, db_session):
    user = factories.user()
    response = client.login(user)
    header = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")][0]
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


def test_security_headers_allow_only_own_origin(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "http" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_open_redirect_after_login_is_refused(client, db_session):
    user = factories.user()
    response = client.post("/login?next=https://evil.example/", {"username": user.username,
                                                                 "password": factories.PASSWORD})
    assert response.location == "/"


def test_language_switch_per_user(client, db_session):
    user = factories.user()
    client.login(user)
    assert "线索" in client.get("/leads").get_data(as_text=True)
    client.post("/language/en", {"next": "/leads"})
    assert factories.reload(user).locale == "en"
    assert "New lead" in client.get("/leads").get_data(as_text=True)


def test_changing_password_ends_other_sessions(make_client, db_session):
    user = factories.user()
    first, second = make_client(), make_client()
    first.login(user)
    second.login(user)
    response = first.post("/profile", {"pw-current_password": factories.PASSWORD,
                                       "pw-new_password": "another-pass-99", "pw-confirm": "another-pass-99",
                                       "pw-submit": "1"})
    assert response.status_code == 302
    assert first.get("/leads").status_code == 200
    assert second.get("/leads").status_code == 302

"""The top bar's menu is rendered once per kind of page and reader (crm.navigation) and still
shows each reader their own entries, in their language, with the current page's group marked."""
from __future__ import annotations

import re

from tests import factories


def _menu(html: str) -> str:
    return re.search(r'<ul class="navbar-nav me-auto.*?\n</ul>', html, re.S).group(0)


def _group(html: str, testid: str) -> str:
    return re.search(rf'<a class="nav-link dropdown-toggle[^"]*"[^>]*data-testid="{testid}"', _menu(html)).group(0)


def test_each_reader_gets_their_own_entries_and_the_cache_serves_the_second_page(client, app, db_session):
    officer = factories.user(roles=("officer",))
    admin = factories.user(roles=("admin",))
    cache = app.extensions["crm_top_menu"]
    client.login(officer)
    first = client.get("/leads").get_data(as_text=True)
    hits = cache.cache_info().hits
    again = client.get("/leads").get_data(as_text=True)
    assert cache.cache_info().hits == hits + 1
    assert _menu(first) == _menu(again)
    assert 'data-testid="nav-leads"' in first and 'data-testid="nav-users"' not in first

    client.post("/logout")
    client.login(admin)
    html = client.get("/leads").get_data(as_text=True)
    assert 'data-testid="nav-users"' in html and 'data-testid="nav-audit"' in html


def test_the_current_pages_group_is_marked(client, db_session):
    admin = factories.user(roles=("admin",))
    client.login(admin)
    leads = client.get("/leads").get_data(as_text=True)
    assert " active" in _group(leads, "nav-group-leads") and " active" not in _group(leads, "nav-settings")
    users = client.get("/admin/users").get_data(as_text=True)
    assert " active" in _group(users, "nav-settings") and " active" not in _group(users, "nav-group-leads")
    again = client.get("/leads").get_data(as_text=True)
    assert " active" in _group(again, "nav-group-leads")


def test_another_language_changes_the_menu_at_once(client, db_session):
    user = factories.user(roles=("officer",))
    client.login(user)
    assert "线索列表" in _menu(client.get("/leads").get_data(as_text=True))
    client.post("/language/en", data={"next": "/leads"})
    html = client.get("/leads").get_data(as_text=True)
    assert "Lead list" in _menu(html) and "线索列表" not in _menu(html)


def test_the_unit_desk_link_is_the_readers_own_unit(make_client, db_session):
    first, second = factories.user(roles=("screener",)), factories.user(roles=("screener",))
    for user in (first, second):
        client = make_client()
        client.login(user)
        menu = _menu(client.get("/").get_data(as_text=True))
        assert f'href="/units/{user.unit_id}/desk"' in menu, menu


def test_in_debug_mode_the_menu_is_rendered_afresh(client, app, db_session, monkeypatch):
    monkeypatch.setattr(app.jinja_env, "auto_reload", True)
    client.login(factories.user(roles=("officer",)))
    before = app.extensions["crm_top_menu"].cache_info()
    assert 'data-testid="nav-leads"' in client.get("/leads").get_data(as_text=True)
    assert app.extensions["crm_top_menu"].cache_info() == before

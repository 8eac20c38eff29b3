"""The lead list's pages, kept in Redis until the data or the accounts change
(crm.leads.page_cache): reused while nothing is written, fresh after a write to a lead or to an
officer's account, never shared between users who see different leads, and right when Redis is
away."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from crm import data_version
from crm.extensions import db, redis_store
from crm.leads import counts
from tests import factories
from tests.own_redis import app_on_own_redis

ROW = re.compile(r'data-lead-id="(\d+)"')


@pytest.fixture()
def page_cache_on(app):
    app.config["LEAD_PAGE_CACHE_SECONDS"] = 600
    counts._paused_until = 0.0
    yield
    app.config["LEAD_PAGE_CACHE_SECONDS"] = None
    counts._paused_until = 0.0


@pytest.fixture()
def lead_statements():
    """The SQL statements that read the leads table, as the requests run them."""
    seen: list[str] = []

    def grab(_conn, _cursor, statement, _parameters, _context, _many):
        if re.search(r"\bFROM leads\b", statement):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", grab)
    yield seen
    event.remove(Engine, "before_cursor_execute", grab)


def page(client, **args) -> str:
    response = client.get("/leads", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def lead_ids(html: str) -> list[int]:
    return [int(i) for i in ROW.findall(html)]


def cached_keys(app) -> list[str]:
    with app.app_context():
        return sorted(k.decode() for k in redis_store.client.scan_iter(match=f"{app.config['REDIS_PREFIX']}:leads:page:*"))


def write(app, change) -> None:
    """`change()` made through the app's session and committed, as a request or a job does."""
    with app.app_context():
        change()
        db.session.commit()  # (the test's savepoint; the outer transaction is still rolled back)


@pytest.fixture()
def two_units(db_session):
    officer_a = factories.user(full_name="林晓峰")
    officer_b = factories.user()
    leads_a = [factories.lead(owner=officer_a, company_name=f"福建甲{i}新材料有限公司") for i in range(3)]
    factories.lead(owner=officer_b, company_name="乙方电子有限公司")
    return officer_a, officer_b, leads_a


def test_a_kept_page_is_shown_again_without_reading_the_leads(app, client, two_units, page_cache_on,
                                                               lead_statements):
    officer_a, _b, leads_a = two_units
    client.login(officer_a)
    first = page(client)
    assert sorted(lead_ids(first)) == sorted(lead.id for lead in leads_a)
    assert lead_statements  # the first visit read the rows
    assert len(cached_keys(app)) == 1
    lead_statements.clear()
    again = page(client)
    assert lead_statements == []
    assert lead_ids(again) == lead_ids(first)
    assert "福建甲0新材料有限公司" in again and "林晓峰" in again
    assert re.search(r'data-testid="lead-total">\D*3', again)


def test_each_sort_and_filter_is_its_own_page(app, client, two_units, page_cache_on):
    officer_a, _b, _leads = two_units
    client.login(officer_a)
    by_company = lead_ids(page(client, sort="company"))
    page(client, sort="updated")
    assert lead_ids(page(client, stage="negotiating")) == []
    assert lead_ids(page(client, sort="company")) == by_company
    assert len(cached_keys(app)) == 3


def test_a_written_lead_makes_the_next_page_fresh(app, client, two_units, page_cache_on):
    officer_a, _b, leads_a = two_units
    client.login(officer_a)
    assert "福建甲1新材料有限公司" in page(client)

    def rename():
        from crm.leads.models import Lead

        db.session.get(Lead, leads_a[1].id).company_name = "福建甲一改名有限公司"

    write(app, rename)
    html = page(client)
    assert "福建甲一改名有限公司" in html and "福建甲1新材料有限公司" not in html
    write(app, lambda: factories.lead(owner=db.session.get(type(officer_a), officer_a.id)))
    assert len(lead_ids(page(client))) == 4


def test_a_renamed_or_deactivated_officer_shows_at_once(app, client, two_units, page_cache_on):
    """Accounts are not in the data version (a login writes one): the accounts version keeps the
    officers' names and the officer filter's choices true."""
    officer_a, _b, _leads = two_units
    colleague = factories.user(unit_=officer_a.unit, full_name="陈静怡")
    client.login(officer_a)
    html = page(client)
    assert "林晓峰" in html and f'<option value="{colleague.id}"' in html

    User = type(officer_a)
    data_before = _versions(app)[0]

    def rename():
        db.session.get(User, officer_a.id).full_name = "林晓锋"
        db.session.get(User, colleague.id).active = False

    write(app, rename)
    assert _versions(app)[0] == data_before  # the data version (the cockpit's cache) stays
    html = page(client)
    assert "林晓锋" in html and "林晓峰" not in html
    assert f'<option value="{colleague.id}"' not in html


def _versions(app) -> tuple[int, int]:
    with app.app_context():
        return data_version.version(), int(redis_store.client.get(data_version.accounts_key()) or 0)


def test_a_lead_write_moves_the_data_version_and_an_account_write_the_accounts_version(app, db_session):
    with app.app_context():
        officer = factories.user()
        db.session.commit()
        data, accounts = _versions(app)
        factories.lead(owner=officer)
        db.session.commit()
        assert _versions(app)[0] > data and _versions(app)[1] == accounts
        data, accounts = _versions(app)
        db.session.get(type(officer), officer.id).full_name = "新名字"
        db.session.commit()
        assert _versions(app)[0] == data and _versions(app)[1] > accounts
        accounts = _versions(app)[1]
        db.session.get(type(officer), officer.id).unit = factories.unit()  # moved to another unit
        db.session.commit()
        assert _versions(app)[1] > accounts


def test_a_login_leaves_the_kept_pages_alone(app, client, make_client, two_units, page_cache_on, lead_statements):
    """A login writes its account (last login, session token) but no name nor unit: the pages
    kept before it are still shown. A new account may be a new officer to choose: it moves the
    accounts version."""
    officer_a, _b, _leads = two_units
    client.login(officer_a)
    accounts = _versions(app)[1]
    made = []
    write(app, lambda: made.append(factories.user(unit_=officer_a.unit)))
    assert _versions(app)[1] > accounts
    first = page(client)
    assert f'<option value="{made[0].id}"' in first
    make_client().login(made[0])
    make_client().login(officer_a)
    lead_statements.clear()
    assert lead_ids(page(client)) == lead_ids(first)
    assert lead_statements == []


def test_users_who_see_different_leads_never_share_a_page(app, make_client, two_units, page_cache_on):
    officer_a, officer_b, leads_a = two_units
    leader = factories.user(roles=["leader"])
    clients = {}
    for user in (officer_a, officer_b, leader):
        clients[user.id] = make_client()
        clients[user.id].login(user)
    for _ in range(2):  # the second round reads what the first kept
        assert sorted(lead_ids(page(clients[officer_a.id]))) == sorted(lead.id for lead in leads_a)
        assert len(lead_ids(page(clients[officer_b.id]))) == 1
        leader_page = page(clients[leader.id])
        assert len(lead_ids(leader_page)) == 4
        assert 'id="unit_id"' in leader_page  # every unit's filter: for who reads every unit
    assert len(cached_keys(app)) == 3


def test_off_unless_turned_on_under_testing(app, client, two_units):
    client.login(two_units[0])
    assert len(lead_ids(page(client))) == 3
    assert cached_keys(app) == []


def test_with_redis_away_the_page_is_still_right(app, client, two_units, page_cache_on):
    officer_a, _b, _leads = two_units
    with app_on_own_redis(app) as server:
        client.login(officer_a)  # while Redis answers (the login's throttle)
        assert len(lead_ids(page(client))) == 3
        server.stop()
        assert len(lead_ids(page(client))) == 3
        write(app, lambda: factories.lead(owner=db.session.get(type(officer_a), officer_a.id)))
        assert len(lead_ids(page(client))) == 4


def test_an_entry_of_another_shape_or_unreadable_is_never_shown(app, client, two_units, page_cache_on, monkeypatch):
    """After an upgrade that changes the page's fields, what the older code kept is not read (its
    key differs); an entry that cannot be unpickled is read afresh, not an error."""
    from crm.leads import list_rows

    officer_a, _b, leads_a = two_units
    client.login(officer_a)
    expected = sorted(lead.id for lead in leads_a)
    assert sorted(lead_ids(page(client))) == expected
    [kept] = cached_keys(app)
    monkeypatch.setattr(list_rows, "_PAGE_SHAPE", list_rows._PAGE_SHAPE + "+a new field")
    assert sorted(lead_ids(page(client))) == expected
    [other] = [key for key in cached_keys(app) if key != kept]
    with app.app_context():
        redis_store.client.set(other, b"not a pickle")
    assert sorted(lead_ids(page(client))) == expected
    with app.app_context():
        assert redis_store.client.get(other) != b"not a pickle"  # stored anew

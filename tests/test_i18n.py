"""Every UI string has a Chinese translation (the default language); English is the source."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "crm/translations/zh/LC_MESSAGES/messages.po"


def test_every_string_in_the_code_is_translated_to_chinese(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "--no-location", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(str(i) for i in wanted - translated)
    assert not missing, f"run scripts/i18n.sh and translate: {missing}"


def test_pages_render_in_chinese_by_default(client, db_session):
    from tests import factories

    client.login(factories.user())
    html = client.get("/leads").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "新增线索" in html and "New lead" not in html


def test_template_translations_follow_force_locale_and_each_request(app):
    """The templates' `_()` keeps the request's translations (crm.i18n._request_translations):
    a forced language inside the request is looked up afresh, and so is the request's own after it,
    and the next request with another language gets its own."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = "{{ _('Lead') }}|{{ ngettext('%(num)d day', '%(num)d days', 2) }}"
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert render_template_string(template) == "Lead|2 days"
        with force_locale("zh"):
            assert render_template_string(template).startswith("线索|")
        assert render_template_string(template) == "Lead|2 days"
    with app.test_request_context("/"):
        assert render_template_string(template).startswith("线索|")
    with app.app_context():  # no request: the default language
        assert render_template_string("{{ _('Lead') }}") == "线索"

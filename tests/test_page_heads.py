"""Every whole HTML page names the app's icon: without it a browser asks for /favicon.ico, which
does not exist, and logs a 404 in the console of a printable paper."""
from __future__ import annotations

from pathlib import Path

import crm

TEMPLATES = Path(crm.__file__).parent / "templates"


def test_every_whole_page_links_the_icon():
    pages = [p for p in TEMPLATES.rglob("*.html") if "<html" in p.read_text(encoding="utf-8")]
    assert len(pages) >= 5  # the base page and the printable papers
    missing = [str(p.relative_to(TEMPLATES)) for p in pages
               if 'filename="favicon.svg"' not in p.read_text(encoding="utf-8")]
    assert missing == []


def test_the_icon_is_served(client):
    response = client.get("/static/favicon.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"

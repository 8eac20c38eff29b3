"""Run by tests in their own process: log in as the demo admin through the real login form
(CSRF and all) and open the home page; prints LOGIN OK."""
import re
import sys

from crm import create_app
from crm.demo.seed import DEMO_PASSWORD

app = create_app()
client = app.test_client()
page = client.get("/login").get_data(as_text=True)
token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
response = client.post("/login", data={"username": sys.argv[1], "password": DEMO_PASSWORD, "csrf_token": token})
assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:500])
home = client.get("/", follow_redirects=True)
assert home.status_code == 200 and sys.argv[1] in home.get_data(as_text=True), home.status_code
print("LOGIN OK")

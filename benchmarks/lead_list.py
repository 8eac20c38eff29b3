#!/usr/bin/env python
"""Lead-list benchmark: the logged-in /leads page at 100,000 leads against a bare Flask "hello".

    /work/main/.venv/bin/python benchmarks/lead_list.py [--leads N] [--duration S]
        [--connections C] [--workers W] [--keep-db] [--explain]

What it does (about three minutes at the defaults):

1. creates a throw-away PostgreSQL database crm_bench_<pid>, runs the Alembic migrations
   (`crm db upgrade`), seeds the demo units, users, chains and sources (crm.demo.seed with 0
   leads) and COPYs N leads made by crm.demo.generate.generate_leads (in chunks with different
   seeds, in 2 processes); activities and stage changes are left out, the list does not read them;
   then VACUUM ANALYZE so the planner and index-only scans see a settled table;
2. starts `gunicorn -w 2` (sync workers; `--workers`) for wsgi:app on a free port, logs in as `admin` (reads
   every lead) and as the officer of the unit owning closest to 10% of the leads, and checks that
   each measured page answers 200 with rows (`data-lead-id`);
3. runs `wrk -t2 -c16 -d20s` against
      /leads?stage=negotiating&sort=investment   (admin: every unit)
      /leads?sort=updated                        (officer: own unit only)
   twice: as deployed, where a page is kept in Redis until a write (crm.leads.page_cache), and
   with that cache off (CRM_LEAD_PAGE_CACHE_SECONDS=0: every request reads the database, as the
   first visit of a page after a write does); then against the page's floor (FLOOR_APP: the
   same template with the same 50 rows from a Python list, no database, no login) and a bare
   Flask app (one route returning "hello"), under the same gunicorn settings (`--workers`, 2 by
   default); a wrk Lua script reports p50/p90/p95/p99 and counts non-200 answers;
4. prints requests/s and latencies, the ratios app/floor and app/hello and whether the aims are
   met as deployed (app/floor >= 0.5 and p95 <= 100 ms, issue 19), the same ratios with the page
   cache off, plus the PostgreSQL execution time of each SQL statement the page runs (EXPLAIN
   ANALYZE; whole plans with --explain).

The database is dropped, gunicorn stopped and the Redis keys removed at the end, also on Ctrl-C
(unless --keep-db, which keeps only the database). Needs wrk (Debian: apt-get install wrk),
PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and Redis at 127.0.0.1:6379.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import http.client
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import date, datetime, time as dtime, timedelta, timezone
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
USER_AGENT = "crm-lead-list-bench"  # the same at login and under wrk (session protection)
PASSWORD = "demo-2026"
ADMIN_ROUTE = "/leads?stage=negotiating&sort=investment"
OFFICER_ROUTE = "/leads?sort=updated"
AIM_RATIO = 0.20          # of the bare "hello" (issue 3's aim)
AIM_FLOOR_RATIO = 0.50    # of the page's floor (issue 19)
AIM_P95_MS = 100.0
CHUNK = 5000
_CST = timezone(timedelta(hours=8))

LEAD_COLUMNS = (
    "company_name", "company_key", "uscc", "project_name", "chain_id", "chain_node_id",
    "source_kind", "source_id", "origin_region", "planned_investment_wan",
    "fixed_asset_investment_wan", "land_area_mu", "expected_output_wan", "expected_tax_wan",
    "high_tech", "specialized", "patents", "rd_ratio", "jobs", "owner_unit_id", "owner_id",
    "stage", "created_on", "signed_on", "started_on", "lost_reason", "created_at", "updated_at",
    "updated_by_id", "version",
)

WRK_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non200 = 0 end
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("non200") or 0) end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p95_us=%d p99_us=%d max_us=%d " ..
    "non200=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, bad,
    e.connect, e.read, e.write, e.timeout))
end
"""

HELLO_APP = '''\
from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "hello"
'''


# The page's floor: the same template, the same 50 rows, from a Python list. At start-up each
# user's page is made once by the real view (so the context is exactly the page's), its objects
# detached; each request then only renders: no database, no login, no session lookup.
FLOOR_APP = '''\
import gc
import os
from urllib.parse import urlsplit

from flask import g, render_template, template_rendered
from flask_login import login_user
from sqlalchemy import select

from crm import create_app
from crm.auth.models import User
from crm.extensions import db
from crm.formatting import keep_top_bar_figures, top_bar_columns

app = create_app()
SNAPSHOTS = {}


def _snapshot(username, path):
    captured = {}

    def grab(_sender, template, context, **_extra):
        if template.name == "leads/index.html":
            captured.update(context)

    with template_rendered.connected_to(grab, app), app.test_request_context(path):
        user = db.session.scalars(select(User).where(User.username == username)).one()
        login_user(user)
        app.view_functions["leads.index"]()
        top_bar = tuple(db.session.execute(select(*top_bar_columns(user.id))).one())
        db.session.expunge_all()
    own = ("page", "filters", "chains", "units", "owners", "stage_names", "source_kinds", "sorts",
           "source_name", "lead_no")
    return user, top_bar, {k: captured[k] for k in own}


for who in os.environ["FLOOR_USERS"].split(","):
    name, path = who.split("=", 1)
    SNAPSHOTS[name] = _snapshot(name, path)
db.session.remove()
db.engine.dispose()
gc.freeze()  # as wsgi.py does after start-up


@app.route("/floor/<name>")
def floor(name):
    user, top_bar, context = SNAPSHOTS[name]
    g._login_user = user
    keep_top_bar_figures(top_bar)  # the unread count and grade cut-offs too: no statement at all
    return render_template("leads/index.html", **context)
'''


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------
# lead generation (runs in worker processes)
# ---------------------------------------------------------------------------------------------
def _dec(value):
    return None if value is None else Decimal(str(value))


def _at(day: date, hour: int) -> datetime:
    """As crm.demo.seed._at: a China-time hour of a day, in UTC."""
    return datetime.combine(day, dtime(hour, 0), tzinfo=_CST).astimezone(timezone.utc)


def generate_chunk(count: int, seed: int, today: date) -> list[tuple]:
    """`count` leads as name-keyed tuples (ids are filled in by the loader)."""
    from crm.demo.generate import generate_leads
    from crm.leads.models import normalize_company_name

    out = []
    for row in generate_leads(count, seed=seed, today=today):
        last_day = max([d for _s, d in row["stage_history"]] +
                       [a["occurred_on"] for a in row["activities"]])
        out.append((
            row["company_name"], normalize_company_name(row["company_name"]), row["uscc"],
            row["project_name"], row["industry"], row["chain_node"], row["source_kind"],
            row["source_name"], row["origin_region"], _dec(row["planned_investment_wan"]),
            _dec(row["fixed_asset_investment_wan"]), _dec(row["land_area_mu"]),
            _dec(row["expected_output_wan"]), _dec(row["expected_tax_wan"]), row["high_tech"],
            row["specialized"], row["patents"], _dec(row["rd_ratio"]), row["jobs"],
            row["owner_unit"], row["officer"], row["stage"], row["created_on"], row["signed_on"],
            row["started_on"], row["lost_reason"], _at(row["created_on"], 9), _at(last_day, 17),
        ))
    return out


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(port: int, method: str, path: str, cookie: str | None = None,
                 body: dict | None = None, timeout: float = 30):
    """(status, headers, text) without following redirects."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"User-Agent": USER_AGENT}
    data = None
    if cookie:
        headers["Cookie"] = f"session={cookie}"
    if body is not None:
        data = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        return resp.status, resp.headers, text
    finally:
        conn.close()


def session_from(headers, previous: str | None) -> str | None:
    for value in headers.get_all("Set-Cookie") or []:
        jar = SimpleCookie()
        jar.load(value)
        if "session" in jar:
            return jar["session"].value
    return previous


def login(port: int, username: str) -> str:
    status, headers, text = http_request(port, "GET", "/login")
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    cookie = session_from(headers, None)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or \
        re.search(r'name="csrf-token" content="([^"]+)"', text)
    if not m or not cookie:
        raise RuntimeError("no CSRF token or session cookie on /login")
    status, headers, _text = http_request(port, "POST", "/login", cookie=cookie, body={
        "username": username, "password": PASSWORD, "csrf_token": m.group(1)})
    cookie = session_from(headers, cookie)
    if status != 302:
        raise RuntimeError(f"login as {username} failed: POST /login answered {status}")
    return cookie


def check_page(port: int, path: str, cookie: str) -> int:
    status, _headers, text = http_request(port, "GET", path, cookie=cookie)
    rows = text.count("data-lead-id=")
    if status != 200 or rows == 0:
        raise RuntimeError(f"GET {path} answered {status} with {rows} lead rows; not measuring")
    return rows


class Gunicorn:
    def __init__(self, module: str, chdir: Path, env: dict, logfile: Path, workers: int = 2):
        self.port = free_port()
        self.logfile = logfile
        self._log = open(logfile, "ab")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             "--chdir", str(chdir), "--log-level", "warning", module],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                http_request(self.port, "GET", path, timeout=5)
                return
            except OSError:
                time.sleep(0.2)
        tail = self.logfile.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"gunicorn did not come up on port {self.port}:\n{tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM to the master: graceful stop of its workers
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def run_wrk(wrk: str, port: int, path: str, cookie: str | None, duration: int,
            connections: int, lua: Path) -> dict:
    threads = max(1, min(2, connections))
    # --timeout 10s: slow answers are measured, not dropped from the latencies as timeouts.
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s",
           "-s", str(lua), "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        cmd += ["-H", f"Cookie: session={cookie}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out = proc.stdout
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{out}\n{proc.stderr}")
    m = re.search(r"^BENCH (.*)$", out, re.M)
    if not m:
        raise RuntimeError("wrk printed no BENCH line:\n" + out)
    stats = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    stats["rps"] = float(rps.group(1)) if rps else stats["requests"] / (stats["duration_us"] / 1e6)
    stats["raw"] = out
    return stats


# ---------------------------------------------------------------------------------------------
# database
# ---------------------------------------------------------------------------------------------
def admin_conn():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


def create_database(name: str) -> None:
    with admin_conn() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with admin_conn() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_leads(db_url: str, futures, total: int) -> None:
    """COPY the generated chunks as they finish, names turned into ids."""
    import psycopg

    with psycopg.connect(db_url) as conn:
        units = dict(conn.execute("SELECT name, id FROM units").fetchall())
        users = dict(conn.execute("SELECT username, id FROM users").fetchall())
        chains = dict(conn.execute("SELECT code, id FROM chains").fetchall())
        nodes = {(code, name): nid for code, name, nid in conn.execute(
            "SELECT c.code, n.name, n.id FROM chain_nodes n JOIN chains c ON c.id = n.chain_id")}
        sources = dict(conn.execute("SELECT name, id FROM sources").fetchall())
        done = 0
        with conn.cursor() as cur:
            with cur.copy(f"COPY leads ({', '.join(LEAD_COLUMNS)}) FROM STDIN") as copy:
                for fut in cf.as_completed(futures):
                    for r in fut.result():
                        officer = users[r[20]]
                        copy.write_row((
                            r[0], r[1], r[2], r[3], chains.get(r[4]), nodes.get((r[4], r[5])),
                            r[6], sources.get(r[7]), r[8], r[9], r[10], r[11], r[12], r[13],
                            r[14], r[15], r[16], r[17], r[18], units[r[19]], officer, r[21],
                            r[22], r[23], r[24], r[25], r[26], r[27], officer, 1))
                    done += len(fut.result())
        conn.commit()
    if done != total:
        raise RuntimeError(f"loaded {done} leads, expected {total}")


def pick_officer(db_url: str, total: int) -> tuple[str, str, int]:
    """(username, unit name, leads of the unit) for the unit owning closest to 10% of leads."""
    import psycopg

    from crm.demo import data

    officers = {}
    for u in data.DEMO_USERS:
        if "officer" in u["roles"]:
            officers.setdefault(u["unit"], u["username"])
    with psycopg.connect(db_url) as conn:
        counts = conn.execute("SELECT u.name, count(*) FROM leads l JOIN units u "
                              "ON u.id = l.owner_unit_id GROUP BY u.name").fetchall()
    candidates = [(abs(n / total - 0.10), name, n) for name, n in counts if name in officers]
    _d, unit, n = min(candidates)
    return officers[unit], unit, n


def explain_page(app, username: str, query: str, full: bool) -> list[tuple[float, str, str]]:
    """Run the page's lead query through crm.leads.queries, then EXPLAIN ANALYZE each SQL."""
    from sqlalchemy import event, select
    from werkzeug.datastructures import MultiDict

    from crm.auth.models import User
    from crm.extensions import db
    from crm.leads.queries import LeadFilters, lead_page

    captured = []

    def grab(_conn, _cursor, statement, parameters, _context, _many):
        if "leads" in statement:
            captured.append((statement, parameters))

    results = []
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        filters = LeadFilters.from_args(MultiDict(urllib.parse.parse_qsl(query)))
        event.listen(db.engine, "before_cursor_execute", grab)
        try:
            lead_page(user, filters, per_page=app.config["LEADS_PER_PAGE"])
        finally:
            event.remove(db.engine, "before_cursor_execute", grab)
        for statement, params in captured:
            conn = db.session.connection()
            plan = [r[0] for r in conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, params).fetchall()]
            ms = next((float(re.search(r"([\d.]+) ms", line).group(1))
                       for line in plan if line.startswith("Execution Time")), float("nan"))
            kind = "count" if "count(" in statement.lower() else "page"
            results.append((ms, kind, "\n".join(plan) if full else ""))
            if full:
                log(f"\n--- {kind} query for {username} {query}\n{statement}\n{params}\n" + "\n".join(plan))
        db.session.rollback()
    return results


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------
def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def clean_up(prefix: str, db_name: str | None, keep_db: bool, db_url: str, tmp: Path) -> None:
    """Remove the run's Redis keys, drop its database (unless kept) and its temp directory."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)
    except Exception as exc:  # noqa: BLE001
        log(f"could not remove Redis keys {prefix}*: {exc}")
    if db_name and not keep_db:
        try:
            drop_database(db_name)
        except Exception as exc:  # noqa: BLE001
            log(f"could not drop database {db_name}: {exc}")
    elif db_name:
        log(f"kept database {db_name} ({db_url})")
    shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--leads", type=int, default=100_000, help="leads to load (default 100000)")
    ap.add_argument("--duration", type=int, default=20, help="seconds per wrk run (default 20)")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of wrk warm-up (default 2)")
    ap.add_argument("--workers", type=int, default=2,
                    help="gunicorn sync workers, the same for the app, the floor and hello (default 2)")
    ap.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    ap.add_argument("--explain", action="store_true", help="print whole EXPLAIN ANALYZE plans")
    ap.add_argument("--no-officer", action="store_true", help="skip the officer-scoped variant")
    args = ap.parse_args(argv)

    wrk = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)
    if not wrk:
        log("wrk not found; install it (apt-get install wrk)")
        return 1

    # Ctrl-C and SIGTERM end the run with KeyboardInterrupt, so the finally block cleans up
    # (SIGINT set explicitly: a shell may start a background job with it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)

    started = time.monotonic()
    db_name = f"crm_bench_{os.getpid()}"
    db_url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
    prefix = f"crm_bench_{os.getpid()}_{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="crm_bench_"))
    env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=REDIS_URL, SECRET_KEY=secrets.token_hex(32),
               CRM_INSTANCE_PATH=str(tmp / "instance"), CRM_REDIS_PREFIX=prefix)
    env.pop("CRM_SQL_ECHO", None)
    env.pop("FLASK_APP", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY",
                                           "CRM_INSTANCE_PATH", "CRM_REDIS_PREFIX")})
    servers: list[Gunicorn] = []
    db_created = False
    pool = None
    app = None
    rc = 1
    try:
        # --- data ----------------------------------------------------------------------------
        t0 = time.monotonic()
        today = date.today()
        pool = cf.ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1),
                                      mp_context=multiprocessing.get_context("fork"))
        sizes = [min(CHUNK, args.leads - i) for i in range(0, args.leads, CHUNK)]
        futures = [pool.submit(generate_chunk, n, 2026 + i, today) for i, n in enumerate(sizes)]

        create_database(db_name)
        db_created = True
        log(f"database {db_name}: migrating")
        subprocess.run([str(VENV_BIN / "crm"), "db", "upgrade"], env=env, check=True, cwd=tmp,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        from crm import create_app
        from crm.demo.seed import seed_demo
        from crm.extensions import db

        app = create_app()
        with app.app_context():
            seed_demo(leads=0)  # units, users (password demo-2026), chains, sources
        log(f"loading {args.leads} leads")
        load_leads(db_url, futures, args.leads)
        pool.shutdown()
        pool = None
        import psycopg

        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        officer, officer_unit, officer_leads = pick_officer(db_url, args.leads)
        t_data = time.monotonic() - t0
        log(f"data ready in {t_data:.1f} s")

        # --- servers and sessions -----------------------------------------------------------
        lua = tmp / "stats.lua"
        lua.write_text(WRK_LUA)
        (tmp / "hello_wsgi.py").write_text(HELLO_APP)
        # The app twice: as deployed (pages kept in Redis until a write, crm.leads.page_cache: wrk
        # sees kept pages) and with that cache off (every request reads the database, as the
        # first visit of a page after a write does; the total stays cached in both).
        results, uncached = [], []
        for variant, extra_env, into in (("", {}, results),
                                         ("  [page cache off]", {"CRM_LEAD_PAGE_CACHE_SECONDS": "0"}, uncached)):
            crm_server = Gunicorn("wsgi:app", ROOT, dict(env, **extra_env), tmp / "gunicorn-crm.log",
                                  workers=args.workers)
            servers.append(crm_server)
            crm_server.wait_ready("/login")
            admin_cookie = login(crm_server.port, "admin")
            cases = [(f"{ADMIN_ROUTE}  (admin, all units){variant}", crm_server.port, ADMIN_ROUTE, admin_cookie)]
            if not args.no_officer:
                officer_cookie = login(crm_server.port, officer)
                cases.append((f"{OFFICER_ROUTE}  ({officer}, {officer_leads / args.leads:.0%} of leads){variant}",
                              crm_server.port, OFFICER_ROUTE, officer_cookie))
            for label, port, path, cookie in cases:
                rows = check_page(port, path, cookie)
                log(f"checked {path}{variant}: 200 with {rows} lead rows")
            for label, port, path, cookie in cases:
                log(f"wrk {args.duration:g}s x {args.connections} connections: {path}{variant}")
                if args.warmup > 0:
                    run_wrk(wrk, port, path, cookie, args.warmup, args.connections, lua)
                stats = run_wrk(wrk, port, path, cookie, args.duration, args.connections, lua)
                check_page(port, path, cookie)  # still logged in afterwards
                into.append((label, stats))
            crm_server.stop()

        (tmp / "floor_wsgi.py").write_text(FLOOR_APP)
        floor_users = [("admin", ADMIN_ROUTE)] + ([] if args.no_officer else [(officer, OFFICER_ROUTE)])
        floor_env = dict(env, FLOOR_USERS=",".join(f"{u}={p}" for u, p in floor_users))
        floor_server = Gunicorn("floor_wsgi:app", tmp, floor_env, tmp / "gunicorn-floor.log", workers=args.workers)
        servers.append(floor_server)
        floor_server.wait_ready("/floor/admin", timeout=120)
        floors = []
        for (user, _path), (label, _port, _p, _cookie) in zip(floor_users, cases):
            rows = check_page(floor_server.port, f"/floor/{user}", None)
            log(f"wrk {args.duration:g}s x {args.connections} connections: the floor of {user}'s page ({rows} rows)")
            if args.warmup > 0:
                run_wrk(wrk, floor_server.port, f"/floor/{user}", None, args.warmup, args.connections, lua)
            floors.append((f"/floor/{user}  (same template and rows, no database)",
                           run_wrk(wrk, floor_server.port, f"/floor/{user}", None, args.duration, args.connections, lua)))
        floor_server.stop()

        hello_server = Gunicorn("hello_wsgi:app", tmp, env, tmp / "gunicorn-hello.log", workers=args.workers)
        servers.append(hello_server)
        hello_server.wait_ready("/")
        log(f"wrk {args.duration:g}s x {args.connections} connections: bare Flask hello")
        if args.warmup > 0:
            run_wrk(wrk, hello_server.port, "/", None, args.warmup, args.connections, lua)
        hello = run_wrk(wrk, hello_server.port, "/", None, args.duration, args.connections, lua)
        hello_server.stop()

        # --- SQL timings ------------------------------------------------------------------------
        sql = [("admin", ADMIN_ROUTE)] + ([] if args.no_officer else [(officer, OFFICER_ROUTE)])
        sql_times = {user: explain_page(app, user, route.split("?", 1)[1], args.explain)
                     for user, route in sql}
        with app.app_context():
            db.engine.dispose()

        # --- report -----------------------------------------------------------------------------
        def ms(stats, key):
            return stats[key] / 1000

        log("")
        log(f"{args.leads} leads, gunicorn -w {args.workers} (sync), wrk -t2 -c{args.connections} "
            f"-d{args.duration:g}s, {os.cpu_count()} CPUs shared by app, PostgreSQL and wrk")
        rows = results + uncached + floors + [("/  (bare Flask hello)", hello)]
        width = max(len(label) for label, _s in rows)
        header = f"{'route':<{width}} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"
        log(header)
        log("-" * len(header))
        for label, s in rows:
            errors = s["non200"] + s["err_connect"] + s["err_read"] + s["err_write"] + s["err_timeout"]
            log(f"{label:<{width}} {s['rps']:>9.1f} {ms(s, 'p50_us'):>8.1f} {ms(s, 'p95_us'):>8.1f} "
                f"{ms(s, 'p99_us'):>8.1f} {errors:>7}")
        for label, s in rows:
            kinds = {k: s[k] for k in ("non200", "err_connect", "err_read", "err_write", "err_timeout")}
            if any(kinds.values()):
                log(f"  errors of {label.split('  ')[0]}: " + ", ".join(
                    f"{k.removeprefix('err_')} {v}" for k, v in kinds.items() if v))
        log("")
        met_all = True
        for (label, s), (_fl, fs) in zip(results, floors):
            ratio = s["rps"] / hello["rps"] if hello["rps"] else 0.0
            floor_ratio = s["rps"] / fs["rps"] if fs["rps"] else 0.0
            ok_floor, ok_p95 = floor_ratio >= AIM_FLOOR_RATIO, ms(s, "p95_us") <= AIM_P95_MS
            met_all &= ok_floor and ok_p95
            log(f"{label.split('  ')[0]:<40} app/floor {floor_ratio:.3f} "
                f"({'met' if ok_floor else 'NOT met'}: >= {AIM_FLOOR_RATIO}), app/hello {ratio:.3f}, "
                f"p95 {ms(s, 'p95_us'):.1f} ms ({'met' if ok_p95 else 'NOT met'}: <= {AIM_P95_MS:g} ms)")
        for (label, s), (_fl, fs) in zip(uncached, floors):
            log(f"{label.split('  ')[0]:<40} app/floor {s['rps'] / fs['rps'] if fs['rps'] else 0.0:.3f}, "
                f"p95 {ms(s, 'p95_us'):.1f} ms with the page cache off (not an aim: a page's first visit after a write)")
        log("")
        log("PostgreSQL execution time of the page's lead SQL (EXPLAIN ANALYZE, one run, warm):")
        for user, route in sql:
            parts = ", ".join(f"{kind} {t:.2f} ms" for t, kind, _plan in sql_times[user])
            log(f"  {route:<44} as {user:<14} {parts}")
        log("")
        log(f"aims {'met' if met_all else 'NOT met'}; data {t_data:.0f} s, "
            f"total {time.monotonic() - started:.0f} s")
        rc = 0
    except KeyboardInterrupt:
        log("\ninterrupted; cleaning up")
        rc = 130
    except subprocess.CalledProcessError as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        log(f"command failed ({exc.returncode}): {' '.join(map(str, exc.cmd))}\n{err[-3000:]}")
    except Exception as exc:  # noqa: BLE001  (report and clean up)
        log(f"benchmark failed: {type(exc).__name__}: {exc}")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        for server in servers:
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001
                log(f"could not stop gunicorn {server.proc.pid}: {exc}")
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if app is not None:
            from crm.extensions import db

            db.session.remove()
            if db.engine is not None:
                db.engine.dispose()
        clean_up(prefix, db_name if db_created else None, args.keep_db, db_url, tmp)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return rc


if __name__ == "__main__":
    sys.exit(main())

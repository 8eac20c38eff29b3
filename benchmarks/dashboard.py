#!/usr/bin/env python
"""Cockpit and ranking benchmark: /dashboard and /ranking at 100,000 leads, 20,000 of them tracked
projects, in PostgreSQL, one user, beside a bare route in the same run.

    /work/main/.venv/bin/python benchmarks/dashboard.py [--leads N] [--projects P] [--requests R] [--rounds K] [--keep-db]

What it does (a few minutes at the defaults):

1. creates a throw-away PostgreSQL database, migrates it, seeds the demo units, users, chains and
   sources, and COPYs N generated leads (crm.demo.generate) with their stage history; P of them
   become tracked projects with agreements, plans, actual dates, 到资, steps and problems
   (benchmarks/tracking.py's loader); then `crm dashboard rebuild-stage-dates` builds the stage
   dates projection (timed) and the nightly lights and letters run (a real burst worker);
2. starts `gunicorn -w 1` with the app and another with a bare Flask "hello", logs in as a viewer
   (`viewer1`, 县委督查室) and requests, one after another, the cockpit for a rotation of periods (this year,
   last year, each quarter, each month, dates) and filters (a unit, a chain), the ranking for
   months, quarters and years sorted by each column, and the bare route; prints p50/p95/max of
   each. Aims: cockpit p95 ≤ 300 ms, ranking p95 ≤ 500 ms. `--rounds K` times the same requests K
   times on the same data, the cached sections deleted before each, and judges the median p95;
3. computes each section without the cache, one after the other and side by side
   (crm.dashboard.parallel), in the benchmark's own process, and prints each one's cost.

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and Redis at 127.0.0.1:6379. The
database and Redis keys are removed at the end (unless --keep-db).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lead_list as ll  # noqa: E402  (gunicorn, login and database helpers)
import tracking as tr  # noqa: E402  (the tracked projects' loader, the nightly run)

AIM_COCKPIT_MS, AIM_RANKING_MS = 300.0, 500.0
VIEWER = "viewer1"


def log(msg: str) -> None:
    print(msg, flush=True)


def generate_chunk(count: int, seed: int, today: date, first_id: int) -> tuple[list, list]:
    """Leads (ll.generate_chunk's tuples, with explicit ids) and their stage history rows."""
    from crm.demo.generate import generate_leads

    leads = ll.generate_chunk(count, seed, today)
    history = []
    for offset, row in enumerate(generate_leads(count, seed=seed, today=today)):
        lead_id = first_id + offset
        previous = None
        for stage, day in row["stage_history"]:
            if stage != "lead":
                history.append((lead_id, previous, stage, ll._at(day, 10)))
            previous = stage
    return leads, history


def load(db_url: str, futures) -> int:
    """COPY leads with the ids their history refers to, then the history; the id sequence follows."""
    import psycopg

    total = 0
    with psycopg.connect(db_url) as conn:
        units = dict(conn.execute("SELECT name, id FROM units").fetchall())
        users = dict(conn.execute("SELECT username, id FROM users").fetchall())
        chains = dict(conn.execute("SELECT code, id FROM chains").fetchall())
        nodes = {(code, name): nid for code, name, nid in conn.execute(
            "SELECT c.code, n.name, n.id FROM chain_nodes n JOIN chains c ON c.id = n.chain_id")}
        sources = dict(conn.execute("SELECT name, id FROM sources").fetchall())
        with conn.cursor() as cur:
            for first_id, fut in futures:
                leads, history = fut.result()
                with cur.copy(f"COPY leads (id, {', '.join(ll.LEAD_COLUMNS)}) FROM STDIN") as copy:
                    for i, r in enumerate(leads):
                        officer = users[r[20]]
                        copy.write_row((
                            first_id + i, r[0], r[1], r[2], r[3], chains.get(r[4]), nodes.get((r[4], r[5])),
                            r[6], sources.get(r[7]), r[8], r[9], r[10], r[11], r[12], r[13],
                            r[14], r[15], r[16], r[17], r[18], units[r[19]], officer, r[21],
                            r[22], r[23], r[24], r[25], r[26], r[27], officer, 1))
                with cur.copy("COPY lead_stage_changes (lead_id, from_stage, to_stage, changed_at, history) "
                              "FROM STDIN") as copy:
                    for lead_id, before, stage, at in history:
                        copy.write_row((lead_id, before, stage, at, True))
                total += len(leads)
            cur.execute("SELECT setval('leads_id_seq', (SELECT max(id) FROM leads))")
        conn.commit()
    return total


def forget_cached_figures(prefix: str) -> None:
    """Delete the cockpit's cached sections (the run's own Redis prefix)."""
    import redis

    client = redis.Redis.from_url(ll.REDIS_URL)
    for key in client.scan_iter(f"{prefix}:dashboard:*"):
        client.delete(key)


def timed(port: int, cookie: str, paths: list[str], marker: str) -> list[float]:
    times = []
    for path in paths:
        t0 = time.perf_counter()
        status, _h, text = ll.http_request(port, "GET", path, cookie=cookie)
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200 or marker not in text:
            raise RuntimeError(f"{path} answered {status}: {text[:500]}")
    return times


def summary(label: str, times: list[float]) -> float:
    times = sorted(times)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    log(f"{label:<34} n={len(times):<4} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
        f"max {times[-1]:7.1f} ms")
    return p95


def cockpit_paths(today: date, units: list[int], chains: list[int], n: int) -> list[str]:
    y = today.year
    base = [f"/dashboard?period=year&year={y}", f"/dashboard?period=year&year={y - 1}"]
    base += [f"/dashboard?period=quarter&year={y}&quarter={q}" for q in range(1, (today.month - 1) // 3 + 2)]
    base += [f"/dashboard?period=month&year={y}&month={m}" for m in range(1, today.month + 1)]
    base += [f"/dashboard?period=range&start={(today - timedelta(days=400)).isoformat()}&end={today.isoformat()}"]
    base += [f"/dashboard?period=year&year={y}&unit_id={u}" for u in units[:6]]
    base += [f"/dashboard?period=year&year={y}&chain_id={c}" for c in chains[:6]]
    return [base[i % len(base)] for i in range(n)]


def ranking_paths(today: date, n: int) -> list[str]:
    y = today.year
    from crm.ranking.queries import SORT_KEYS as sorts  # every column the page sorts by
    periods = [f"period=month&year={y}&month={m}" for m in range(1, today.month + 1)]
    periods += [f"period=quarter&year={y}&quarter={q}" for q in range(1, (today.month - 1) // 3 + 2)]
    periods += [f"period=year&year={y}", f"period=year&year={y - 1}"]
    return [f"/ranking?{periods[i % len(periods)]}&sort={sorts[i % len(sorts)]}" for i in range(n)]


def section_costs(paths: list[str], rounds: int = 1) -> dict[str, list[tuple[float, int]]]:
    """Each cockpit section computed (no cache) for each distinct filter of `paths`, in this process
    with the app's own code: {section: [(ms, SQL statements), ...]}, plus "(all sections)"."""
    from flask_login import login_user
    from sqlalchemy import event, select

    from crm import create_app
    from crm.auth.models import User
    from crm.dashboard import parallel, queries
    from crm.dashboard.sections import sections
    from crm.extensions import db

    app = create_app()
    out: dict[str, list[tuple[float, int]]] = {}
    statements = [0]

    def count(*_a, **_k):
        statements[0] += 1

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            for _round in range(rounds):
                for path in dict.fromkeys(paths):
                    with app.test_request_context(path):
                        user = db.session.scalar(select(User).where(User.username == VIEWER))
                        login_user(user)
                        req = queries.read(__import__("flask").request.args, user)
                        total_ms, total_n = 0.0, 0
                        for section in sections():
                            statements[0] = 0
                            t = time.perf_counter()
                            section.compute(req.ctx)
                            db.session.rollback()  # each section in its own transaction (SET LOCAL jit ends with it)
                            ms = (time.perf_counter() - t) * 1000
                            out.setdefault(section.key, []).append((ms, statements[0]))
                            total_ms += ms
                            total_n += statements[0]
                        out.setdefault("(all sections)", []).append((total_ms, total_n))
                        # The same seven as a first visit computes them: side by side, each thread
                        # on its own connection (crm.dashboard.parallel, DASHBOARD_WORKERS).
                        statements[0] = 0
                        t = time.perf_counter()
                        parallel.compute(req.ctx, sections())
                        out.setdefault(f"(side by side, {parallel.workers()} threads)", []).append(
                            ((time.perf_counter() - t) * 1000, statements[0]))
                    db.session.remove()
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return out


def section_summary(costs: dict[str, list[tuple[float, int]]]) -> None:
    log("per section, computed without the cache (each distinct filter of the rotation):")
    for key, rows in costs.items():
        times = sorted(ms for ms, _n in rows)
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        stmts = sorted(n for _ms, n in rows)
        log(f"  {key:<16} n={len(rows):<3} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
            f"max {times[-1]:7.1f} ms   SQL statements {stmts[0]}–{stmts[-1]}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--projects", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--rounds", type=int, default=1,
                    help="time the requests this many times on the same data, the cache emptied before each")
    args = ap.parse_args(argv)
    db_name = f"crm_bench_dashboard_{os.getpid()}"
    db_url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
    prefix = f"crm_bench_{os.getpid()}_{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="crm_bench_dashboard_"))
    env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=ll.REDIS_URL, SECRET_KEY=secrets.token_hex(32),
               CRM_INSTANCE_PATH=str(tmp / "instance"), CRM_REDIS_PREFIX=prefix)
    env.pop("FLASK_APP", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CRM_INSTANCE_PATH",
                                           "CRM_REDIS_PREFIX")})
    servers = []
    ok = True
    try:
        t0 = time.monotonic()
        today = date.today()
        pool = cf.ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork"))
        starts = list(range(0, args.leads, ll.CHUNK))
        futures = [(s + 1, pool.submit(generate_chunk, min(ll.CHUNK, args.leads - s), 2026 + i, today, s + 1))
                   for i, s in enumerate(starts)]
        ll.create_database(db_name)
        subprocess.run([str(ll.VENV_BIN / "crm"), "db", "upgrade"], env=env, check=True, cwd=tmp,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        from crm import create_app
        from crm.demo.seed import seed_demo

        with create_app().app_context():
            seed_demo(leads=0)
        log(f"loading {args.leads} leads with their stage history")
        loaded = load(db_url, futures)
        pool.shutdown()
        log(f"making {args.projects} tracked projects")
        tr.make_projects(db_url, args.projects, today)
        t1 = time.monotonic()
        out = subprocess.run([str(ll.VENV_BIN / "crm"), "dashboard", "rebuild-stage-dates"], env=env, check=True,
                             cwd=tmp, capture_output=True, text=True)
        log(f"{out.stdout.strip()} for {loaded} leads in {time.monotonic() - t1:.1f} s")
        import psycopg

        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        tr.run_nightly(env, tmp)
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            units = [r[0] for r in conn.execute(
                "SELECT owner_unit_id FROM leads GROUP BY owner_unit_id ORDER BY count(*) DESC")]
            chains = [r[0] for r in conn.execute("SELECT id FROM chains ORDER BY position")]
            reached = dict(conn.execute("SELECT stage, count(*) FROM stage_reached GROUP BY stage").fetchall())
        log(f"data ready in {time.monotonic() - t0:.1f} s; stage_reached: {reached}")

        (tmp / "hello_wsgi.py").write_text(ll.HELLO_APP)
        hello = ll.Gunicorn("hello_wsgi:app", tmp, env, tmp / "gunicorn-hello.log", workers=1)
        servers.append(hello)
        hello.wait_ready("/")
        server = ll.Gunicorn("wsgi:app", ll.ROOT, env, tmp / "gunicorn.log", workers=1)
        servers.append(server)
        server.wait_ready("/login")
        cookie = ll.login(server.port, VIEWER)

        n = args.requests
        hello_times = []
        for _ in range(n):
            t = time.perf_counter()
            ll.http_request(hello.port, "GET", "/")
            hello_times.append((time.perf_counter() - t) * 1000)
        cockpit = cockpit_paths(today, units, chains, n + 10)
        ranking = ranking_paths(today, n + 10)
        p95s = []
        for round_no in range(1, args.rounds + 1):
            if round_no > 1:
                forget_cached_figures(prefix)  # each round starts as cold as the first
                log(f"\n--- round {round_no} of {args.rounds} (cache emptied)")
            timed(server.port, cookie, cockpit[:10], 'data-testid="period-filter"')  # warm-up
            timed(server.port, cookie, ranking[:10], "<table")
            cockpit_times = timed(server.port, cookie, cockpit[10:], 'data-testid="period-filter"')
            ranking_times = timed(server.port, cookie, ranking[10:], "<table")
            # The sections are cached in Redis until the data changes (crm.dashboard.cache): a
            # filter's first visit computes every figure, a later one reads them. Both are reported.
            seen, first_visit, again = set(cockpit[:10]), [], []
            for path, ms in zip(cockpit[10:], cockpit_times):
                (again if path in seen else first_visit).append(ms)
                seen.add(path)
            log("")
            summary("/  (bare Flask hello)", hello_times)
            p95_c = summary("/dashboard (cockpit)", cockpit_times)
            if first_visit:
                summary("  first visit of a filter (computed)", first_visit)
            if again:
                summary("  visited again (cached figures)", again)
            p95_r = summary("/ranking", ranking_times)
            p95s.append((p95_c, p95_r))
        log("")
        section_summary(section_costs(cockpit[:len(cockpit) // 2 + 1]))
        p95_c = statistics.median(c for c, _r in p95s)
        p95_r = statistics.median(r for _c, r in p95s)
        if args.rounds > 1:
            log(f"median of {args.rounds} rounds: cockpit p95 {p95_c:.1f} ms "
                f"({' / '.join(f'{c:.1f}' for c, _r in p95s)}), ranking p95 {p95_r:.1f} ms "
                f"({' / '.join(f'{r:.1f}' for _c, r in p95s)})")
        ok &= p95_c <= AIM_COCKPIT_MS and p95_r <= AIM_RANKING_MS
        log(f"aims: cockpit p95 ≤ {AIM_COCKPIT_MS:.0f} ms {'met' if p95_c <= AIM_COCKPIT_MS else 'NOT met'}; "
            f"ranking p95 ≤ {AIM_RANKING_MS:.0f} ms {'met' if p95_r <= AIM_RANKING_MS else 'NOT met'}")
        return 0 if ok else 2
    finally:
        for s in servers:
            s.stop()
        try:
            import redis

            client = redis.Redis.from_url(ll.REDIS_URL)
            for key in client.scan_iter(f"{prefix}*"):
                client.delete(key)
        except Exception:
            pass
        if not args.keep_db:
            ll.drop_database(db_name)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Soak: 30 simulated users for 10 minutes on PostgreSQL, gunicorn with 2 workers and a real RQ
worker; midway the worker is killed (SIGKILL) and Redis is restarted.

    /work/main/.venv/bin/python benchmarks/soak.py [--minutes 10] [--users 30] [--keep-db]

What it does:

1. creates a throw-away PostgreSQL database, migrates it, seeds the demo county (a small one:
   --leads, default 300), starts its OWN redis-server (AOF on, in a temporary folder, on a free
   port: the shared Redis on 6379 is never touched), `gunicorn -w 2` and `crm worker --with-scheduler`;
2. logs in 30 users: officers (save a new lead, record a follow-up on one of their leads, read the
   list), screeners (open their to-do list, answer an open case of their unit when there is one)
   and leaders (read the cockpit); each user thinks 0.2–1.5 s between requests;
3. at a third of the run kills the worker's process group with SIGKILL and starts a new worker; at
   two thirds stops Redis (SIGTERM) and starts it again on the same folder;
4. reports requests and errors by status per action, then waits for the queues to drain and checks
   that every acknowledged write (a 302 answer) is in the database — each lead by its company
   name, each follow-up by its text, each opinion by case and unit — and that every job finished:
   no lead still waiting for its score, no outbox row unfinished (when the outbox exists).

Exit code 0 when every acknowledged write is there and every job finished, 2 otherwise.
Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and redis-server on the PATH.
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lead_list as ll  # noqa: E402  (database, gunicorn, login and HTTP helpers)

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CASE_LINK = re.compile(r'href="/screening/cases/(\d+)"')
LEAD_LINK = re.compile(r'data-lead-id="(\d+)"')


def log(msg: str) -> None:
    print(msg, flush=True)


class OwnRedis:
    """A redis-server of the soak's own, keeping its data (AOF) so a restart loses nothing queued."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = ll.free_port()
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "everysec",
                                      "--save", "60", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        for _ in range(100):
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError("the soak's redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


class Worker:
    def __init__(self, env: dict, logfile: Path):
        self.env, self.logfile = env, logfile
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen([str(ll.VENV_BIN / "crm"), "worker", "--queues", "quick,slow", "--with-scheduler"],
                                     env=self.env, cwd=ll.ROOT, stdout=open(self.logfile, "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_action = collections.defaultdict(collections.Counter)
        self.leads: list[str] = []          # company names of leads saved (302)
        self.follow_ups: list[str] = []     # texts of follow-ups saved
        self.opinions: list[tuple[int, str]] = []  # (case id, screener) answered

    def count(self, action: str, status) -> None:
        with self.lock:
            self.by_action[action][status] += 1


def request(port, method, path, cookie, body=None, tally=None, action=""):
    try:
        status, headers, text = ll.http_request(port, method, path, cookie=cookie, body=body, timeout=60)
    except OSError as exc:
        status, headers, text = f"conn:{type(exc).__name__}", None, ""
    if tally is not None:
        tally.count(action, status)
    return status, text


def officer_loop(port, cookie, name, deadline, tally, rnd):
    own: list[int] = []
    n = 0
    while time.monotonic() < deadline:
        choice = rnd.random()
        if choice < 0.35:
            status, page = request(port, "GET", "/leads/new", cookie)
            token = TOKEN.search(page or "")
            if status == 200 and token:
                n += 1
                company = f"压测{name}企业{n}号有限公司"
                status, _ = request(port, "POST", "/leads/new", cookie, {
                    "csrf_token": token.group(1), "company_name": company, "planned_investment_wan": str(rnd.randint(500, 50000)),
                    "created_on": "", "confirm_duplicate": "y"}, tally, "officer: save a lead")
                if status == 302:
                    with tally.lock:
                        tally.leads.append(company)
        elif choice < 0.7:
            status, page = request(port, "GET", "/leads?sort=updated", cookie, tally=tally, action="officer: the list")
            own = [int(i) for i in LEAD_LINK.findall(page or "")][:20] or own
            if own:
                lead_id = rnd.choice(own)
                status, page = request(port, "GET", f"/leads/{lead_id}", cookie)
                token = TOKEN.search(page or "")
                if status == 200 and token:
                    text = f"压测跟进 {name} {secrets.token_hex(4)}"
                    status, _ = request(port, "POST", f"/leads/{lead_id}/activities", cookie, {
                        "csrf_token": token.group(1), "kind": "call", "occurred_on": time.strftime("%Y-%m-%d"),
                        "summary": text, "next_follow_up_on": ""}, tally, "officer: record a follow-up")
                    if status == 302:
                        with tally.lock:
                            tally.follow_ups.append(text)
        else:
            request(port, "GET", "/", cookie, tally=tally, action="officer: home")
        time.sleep(rnd.uniform(0.2, 1.5))


def screener_loop(port, cookie, name, deadline, tally, rnd):
    while time.monotonic() < deadline:
        status, page = request(port, "GET", "/screening/todo", cookie, tally=tally, action="screener: to-do")
        cases = CASE_LINK.findall(page or "")
        if cases:
            case_id = int(rnd.choice(cases))
            status, page = request(port, "GET", f"/screening/cases/{case_id}", cookie)
            token = TOKEN.search(page or "")
            version = re.search(r'name="based_on_version"[^>]*value="(\d+)"', page or "")
            if status == 200 and token and version and 'name="verdict"' in page:
                body = {"csrf_token": token.group(1), "verdict": "approve", "materials_other": "", "comment": "压测意见",
                        "conditions": "", "based_on_version": version.group(1)}
                body.update({f"rating_{d}": "4" for d in ("scale", "intensity", "tech", "prospects", "compliance")})
                status, _ = request(port, "POST", f"/screening/cases/{case_id}/opinion", cookie, body, tally,
                                    "screener: answer a case")
                if status == 302:
                    with tally.lock:
                        tally.opinions.append((case_id, name))
        time.sleep(rnd.uniform(0.2, 1.5))


def leader_loop(port, cookie, name, deadline, tally, rnd):
    while time.monotonic() < deadline:
        request(port, "GET", rnd.choice(["/dashboard", "/dashboard?period=quarter", "/ranking"]), cookie,
                tally=tally, action="leader: cockpit and ranking")
        time.sleep(rnd.uniform(0.2, 1.5))


def check(db_url: str, tally: Tally) -> tuple[bool, list[str]]:
    import psycopg

    lines, ok = [], True
    with psycopg.connect(db_url) as conn:
        names = {r[0] for r in conn.execute("SELECT company_name FROM leads WHERE company_name LIKE '压测%%'")}
        missing = [c for c in tally.leads if c not in names]
        lines.append(f"leads acknowledged {len(tally.leads)}, missing {len(missing)}")
        texts = {r[0] for r in conn.execute("SELECT summary FROM lead_activities WHERE summary LIKE '压测跟进%%'")}
        missing_f = [t for t in tally.follow_ups if t not in texts]
        lines.append(f"follow-ups acknowledged {len(tally.follow_ups)}, missing {len(missing_f)}")
        answered = conn.execute("SELECT count(*) FROM screening_opinions WHERE comment = '压测意见'").fetchone()[0]
        lines.append(f"opinions acknowledged {len(tally.opinions)}, found {answered}")
        pending = conn.execute("SELECT count(*) FROM leads WHERE score_pending").fetchone()[0]
        lines.append(f"leads still waiting for a score: {pending}")
        ok &= not missing and not missing_f and answered >= len(tally.opinions) and pending == 0
        outbox = conn.execute("SELECT to_regclass('job_outbox')").fetchone()[0]
        if outbox:
            unfinished = conn.execute("SELECT count(*) FROM job_outbox WHERE finished_at IS NULL").fetchone()[0]
            lines.append(f"outbox rows unfinished: {unfinished}")
            ok &= unfinished == 0
    return ok, lines


def users_by_role(db_url: str) -> dict[str, list[str]]:
    import psycopg

    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT u.username, r.role FROM users u JOIN user_roles r ON r.user_id = u.id "
                            "WHERE u.active ORDER BY u.username").fetchall()
    out = collections.defaultdict(list)
    for username, role in rows:
        out[role].append(username)
    return out


def wait_settled(db_url: str, limit: float) -> float:
    """Seconds until no lead waits for its score and no outbox row is unfinished (-1: not within
    `limit`). The queues themselves never stay empty: the periodic jobs come every minute."""
    import psycopg

    started = time.monotonic()
    while time.monotonic() - started < limit:
        with psycopg.connect(db_url) as conn:
            busy = conn.execute("SELECT count(*) FROM leads WHERE score_pending").fetchone()[0]
            if conn.execute("SELECT to_regclass('job_outbox')").fetchone()[0]:
                busy += conn.execute("SELECT count(*) FROM job_outbox WHERE finished_at IS NULL").fetchone()[0]
        if not busy:
            return time.monotonic() - started
        time.sleep(3)
    return -1.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--users", type=int, default=30)
    ap.add_argument("--leads", type=int, default=300)
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args(argv)
    db_name = f"crm_soak_{os.getpid()}"
    db_url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
    prefix = f"crm_soak_{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="crm_soak_"))
    (tmp / "redis").mkdir()
    redis_server = OwnRedis(tmp / "redis")
    redis_server.start()
    env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=redis_server.url, SECRET_KEY=secrets.token_hex(32),
               CRM_INSTANCE_PATH=str(tmp / "instance"), CRM_REDIS_PREFIX=prefix)
    env.pop("FLASK_APP", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CRM_INSTANCE_PATH",
                                           "CRM_REDIS_PREFIX")})
    web = worker = None
    ok = False
    try:
        ll.create_database(db_name)
        subprocess.run([str(ll.VENV_BIN / "crm"), "db", "upgrade"], env=env, check=True, cwd=tmp,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        from crm import create_app
        from crm.demo.seed import seed_demo

        with create_app().app_context():
            seed_demo(leads=args.leads)
        log(f"database {db_name} seeded with {args.leads} demo leads")
        web = ll.Gunicorn("wsgi:app", ll.ROOT, env, tmp / "gunicorn.log", workers=2)
        web.wait_ready("/login")
        worker = Worker(env, tmp / "worker.log")
        worker.start()
        roles = users_by_role(db_url)
        people = ([("officer", u) for u in roles["officer"]] + [("screener", u) for u in roles["screener"]]
                  + [("leader", u) for u in roles["leader"] + roles["viewer"]])
        rnd = random.Random(2026)
        rnd.shuffle(people)
        mix = {"officer": 15, "screener": 8, "leader": 7}
        chosen = []
        for kind, count in mix.items():
            pool = [p for p in people if p[0] == kind]
            chosen += [pool[i % len(pool)] for i in range(max(1, round(count * args.users / 30)))]
        loops = {"officer": officer_loop, "screener": screener_loop, "leader": leader_loop}
        tally = Tally()
        duration = args.minutes * 60
        deadline = time.monotonic() + duration
        threads = []
        for i, (kind, username) in enumerate(chosen):
            cookie = ll.login(web.port, username)
            t = threading.Thread(target=loops[kind], args=(web.port, cookie, f"{username}-{i}", deadline, tally,
                                                           random.Random(i)), daemon=True)
            threads.append(t)
            t.start()
        log(f"{len(threads)} users for {args.minutes:g} min: "
            + ", ".join(f"{k} {sum(1 for c in chosen if c[0] == k)}" for k in mix))
        time.sleep(duration / 3)
        log("killing the worker (SIGKILL) and starting another")
        worker.kill()
        worker.start()
        time.sleep(duration / 3)
        log("restarting Redis")
        redis_server.stop()
        time.sleep(2)
        redis_server.start()
        for t in threads:
            t.join()
        log("")
        log(f"{'action':<34} {'requests':>9}  statuses")
        total = collections.Counter()
        for action, counts in sorted(tally.by_action.items()):
            total.update(counts)
            log(f"{action:<34} {sum(counts.values()):>9}  "
                + ", ".join(f"{s}: {n}" for s, n in sorted(counts.items(), key=lambda x: str(x[0]))))
        errors = {s: n for s, n in total.items() if not (isinstance(s, int) and s < 400)}
        log(f"{'all':<34} {sum(total.values()):>9}  errors: {errors or 'none'}")
        settled = wait_settled(db_url, limit=300)
        log(f"every job done {settled:.0f} s after the run" if settled >= 0 else "jobs NOT all done 300 s after the run")
        if settled < 0:
            log("worker log (tail):\n" + (tmp / "worker.log").read_text(errors="replace")[-3000:])
        ok, lines = check(db_url, tally)
        for line in lines:
            log(line)
        log("every acknowledged write is there and every job finished" if ok else "NOT everything is there")
    finally:
        for proc in (worker, web):
            if proc is not None:
                proc.stop()
        redis_server.stop()
        if not args.keep_db:
            ll.drop_database(db_name)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""招商作战表 export benchmark: 100,000 target companies over 10 chains to .xlsx.

    .venv/bin/python benchmarks/export_targets.py [--targets N] [--database sqlite|postgres] [--repeat R]

1. A throw-away database (SQLite file in a temp dir, or PostgreSQL database crm_bench_et_<pid> at
   BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres) is migrated with the real
   migrations. 10 chains (the demo county's 8 and two more, 5-8 nodes each), 20 units, 40 officers,
   local firms at about half the nodes, 2,000 leads (some at chain nodes, so some nodes are "in
   progress") and N targets spread over the nodes are inserted with Core bulk inserts (not timed).
   Targets have realistic Chinese names, a note on 60%, a credit code on half, every priority and
   status (converted ones carry a lead), and one in a thousand a name starting with "=".
2. Each measurement runs in a fresh Python process, so each peak RSS (ru_maxrss of the child) is
   its own; the pair is run R times (default 3), alternating, and the best rate of each is kept:
   a. ours: crm.chains.export.write_xlsx(path, TargetFilters()) — every chain, from the database
      (gap figures, streamed query with yield_per, Chinese values, safe_cell, widths fitted while
      streaming, summary sheet, one sheet per chain);
   b. floor: the same rows read into a Python list first (crm.chains.export.export_rows, not
      timed), then XlsxWriter in constant_memory mode writes them to one sheet with one typed call
      per non-empty cell and nothing else — the writer's own cost, which no export can beat.
      The list is frozen out of the garbage collector (gc.freeze) before the clock starts, else
      full collections walking it would slow the floor down. Its peak RSS includes the whole
      list; only its rows/s matters.
   c. csv (for information): crm.chains.export.write_csv to a file.
3. Prints rows/s and peak RSS of each, the ratio ours/floor and whether the aims are met:
   ours >= 0.6 x floor rows/s, ours <= 150 MB peak RSS. The 1-minute load average is printed
   before each measurement: on a 2-CPU machine shared with other work, compare runs only at a
   similar load.

The database and temp dir are removed at the end, also on Ctrl-C (unless --keep-db).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AIM_RATIO = 0.6
AIM_RSS_MB = 150.0
EXTRA_CHAINS = [
    {"code": "new_materials", "name": "新材料", "nodes": [
        {"name": "石墨烯", "tier": "upstream"}, {"name": "碳纤维", "tier": "upstream"},
        {"name": "特种玻璃", "tier": "midstream"}, {"name": "高分子复合材料", "tier": "midstream"},
        {"name": "新型显示材料", "tier": "downstream"}, {"name": "材料检测认证", "tier": "downstream"}]},
    {"code": "green_building", "name": "绿色建材", "nodes": [
        {"name": "机制砂石", "tier": "upstream"}, {"name": "装配式构件", "tier": "midstream"},
        {"name": "节能门窗", "tier": "midstream"}, {"name": "竹木结构建筑", "tier": "downstream"},
        {"name": "建筑光伏一体化", "tier": "downstream"}]},
]
REGIONS = ["上海", "深圳", "苏州", "杭州", "宁波", "厦门", "泉州", "福州", "广州", "东莞", "南京", "无锡", "合肥",
           "武汉", "长沙", "成都", "重庆", "天津", "北京", "青岛", "宁德", "赣州", "温州", "佛山"]
WORDS = ["华创", "恒信", "科达", "中联", "鑫源", "瑞丰", "博远", "天润", "宏达", "德盛", "润泽", "嘉禾", "金桥",
         "宇航", "顺通", "海纳", "正泰", "龙腾", "新元", "启明", "泰和", "长青", "联合", "蓝海"]
SUFFIXES = ["科技有限公司", "股份有限公司", "实业有限公司", "集团有限公司", "新材料有限公司", "制造有限公司"]
NOTES = ["行业龙头，可补齐本地{node}环节空白", "已在长三角布局产能，有向中西部转移意向",
         "与本地{node}企业有配套关系，商会推荐", "拟扩产，正在比选福建、江西两地", "上市公司子公司，投资能力强",
         "专精特新“小巨人”，{node}细分领域隐形冠军", "对接过两次，关注用地指标和电价"]
SURNAMES = "陈林黄张李王吴刘蔡杨郑谢邱罗廖"
GIVEN = ["志强", "建华", "晓明", "丽娟", "海燕", "国平", "文斌", "秀英", "春生", "伟", "敏", "磊"]


def log(message: str) -> None:
    print(message, flush=True)


def load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}"


# ---------------------------------------------------------------------------------------------
# database
# ---------------------------------------------------------------------------------------------
def make_database(kind: str):
    """(url, tmp dir, cleanup) for a fresh database of the chosen kind."""
    tmp = tempfile.mkdtemp(prefix="crm-bench-targets-")
    if kind == "sqlite":
        return f"sqlite:///{tmp}/bench.sqlite3", tmp, lambda keep=False: None if keep else shutil.rmtree(tmp, True)
    from sqlalchemy import create_engine, text

    server = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"crm_bench_et_{os.getpid()}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop(keep=False):
        from crm.extensions import db

        try:
            db.engine.dispose()
        except RuntimeError:
            pass  # no app context: nothing of ours is open
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)

    return server.rsplit("/", 1)[0] + "/" + name, tmp, drop


def load(targets: int, seed: int = 2026) -> dict:
    """Bulk-insert units, officers, chains, nodes, local firms, leads and the targets."""
    from sqlalchemy import insert, text

    from crm.auth.models import Unit, User, UserRole
    from crm.chains.models import PRIORITY_ORDER, Chain, ChainNode, LocalEnterprise, Target
    from crm.demo.data import CHAINS, UNITS
    from crm.extensions import db
    from crm.leads.models import Lead, normalize_company_name

    rng = random.Random(seed)
    session = db.session
    now = datetime.now(timezone.utc)
    units = [Unit(name=u["name"], kind=u["kind"]) for u in UNITS[:20]]
    session.add_all(units)
    session.flush()
    users = [User(username=f"officer{i}", full_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                  unit_id=units[i % len(units)].id, password_hash="x") for i in range(40)]
    session.add_all(users)
    session.flush()
    session.execute(insert(UserRole), [{"user_id": u.id, "role": "officer"} for u in users])

    nodes = []  # (chain, node)
    for position, spec in enumerate((CHAINS + EXTRA_CHAINS)[:10]):
        chain = Chain(code=spec["code"], name=spec["name"], position=position)
        chain.nodes = [ChainNode(name=n["name"], tier=n["tier"], position=i, intent=rng.choice(["fill", "extend", "strengthen"]))
                       for i, n in enumerate(spec["nodes"])]
        session.add(chain)
        session.flush()
        nodes += [(chain, node) for node in chain.nodes]
    firms = [{"node_id": node.id, "name": f"将乐{rng.choice(WORDS)}{node.name}有限公司{i}", "note": None}
             for i, (_chain, node) in enumerate(nodes) if rng.random() < 0.5]
    session.execute(insert(LocalEnterprise), firms)

    lead_ids = list(range(1, 2001))
    lead_rows = []
    for i in lead_ids:
        chain, node = rng.choice(nodes)
        at_node = rng.random() < 0.3
        owner = rng.choice(users)
        name = f"{rng.choice(REGIONS)}{rng.choice(WORDS)}{rng.choice(SUFFIXES)}{i}"
        lead_rows.append({"id": i, "company_name": name, "company_key": normalize_company_name(name),
                          "owner_unit_id": owner.unit_id, "owner_id": owner.id,
                          "stage": rng.choice(["lead", "negotiating", "lost"]), "chain_id": chain.id,
                          "chain_node_id": node.id if at_node else None, "created_on": now.date(),
                          "created_at": now, "updated_at": now, "version": 1})
    session.execute(insert(Lead), lead_rows)

    priorities, statuses = ["high", "medium", "low"], ["not_contacted", "contacted", "converted", "dropped"]
    free_leads = list(lead_ids)
    rows = []
    for i in range(targets):
        _chain, node = nodes[i % len(nodes)] if i < len(nodes) else rng.choice(nodes)
        name = f"{rng.choice(REGIONS)}{rng.choice(WORDS)}{node.name[:2]}{rng.choice(SUFFIXES)}"
        if i % 1000 == 999:
            name = "=" + name  # formula-like text, written as text
        priority = rng.choices(priorities, (2, 5, 3))[0]
        status = rng.choices(statuses, (60, 30, 3, 7))[0]
        lead_id = None
        if status == "converted":
            if free_leads:
                lead_id = free_leads.pop()
            else:
                status = "contacted"
        officer = rng.choice(users) if rng.random() < 0.8 else None
        rows.append({
            "node_id": node.id, "company_name": name, "company_key": normalize_company_name(name),
            "uscc": f"91{rng.randrange(10**14, 10**15)}X" if rng.random() < 0.5 else None,
            "location": rng.choice(REGIONS) + "市", "reason": rng.choice(["fill", "extend", "strengthen"]),
            "note": rng.choice(NOTES).format(node=node.name) if rng.random() < 0.6 else None,
            "priority": priority, "priority_rank": PRIORITY_ORDER[priority],
            "unit_id": officer.unit_id if officer else rng.choice(units).id,
            "officer_id": officer.id if officer else None, "status": status, "lead_id": lead_id,
            "created_at": now, "updated_at": now, "version": 1})
        if len(rows) == 5000:
            session.execute(insert(Target), rows)
            rows = []
    if rows:
        session.execute(insert(Target), rows)
    session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('leads', 'id'), 2001)"))
            conn.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    return {"chains": 10, "nodes": len(nodes), "firms": len(firms), "leads": len(lead_rows)}


# ---------------------------------------------------------------------------------------------
# measurements (each in its own process: `--child KIND`)
# ---------------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child_ours(out: Path) -> dict:
    from crm.chains.export import TargetFilters, write_xlsx

    started = time.perf_counter()
    count = write_xlsx(str(out), TargetFilters())
    return {"rows": count, "seconds": time.perf_counter() - started}


def child_csv(out: Path) -> dict:
    from crm.chains.export import TargetFilters, write_csv

    started = time.perf_counter()
    with open(out, "wb") as fh:
        count = write_csv(fh, TargetFilters())
    return {"rows": count, "seconds": time.perf_counter() - started}


def child_floor(out: Path) -> dict:
    import xlsxwriter

    from crm.chains.export import TargetFilters, export_rows

    rows = list(export_rows(TargetFilters()))  # not timed: the input
    # The list's 1.4 million objects would otherwise be walked by every full garbage collection
    # while writing, which no streaming export pays: keep them out of the collector's sight.
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    sheet = workbook.add_worksheet("targets")
    write_string, write_number = sheet.write_string, sheet.write_number
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if type(value) is str:
                write_string(r, c, value)
            else:
                write_number(r, c, value)
    workbook.close()
    return {"rows": len(rows) - 1, "seconds": time.perf_counter() - started}


CHILDREN = {"ours": child_ours, "floor": child_floor, "csv": child_csv}


def run_child(kind: str, out: Path) -> None:
    from crm import create_app

    app = create_app()
    with app.app_context():
        setup_mb = peak_rss_mb()
        result = CHILDREN[kind](out)
    result.update(kind=kind, peak_rss_mb=peak_rss_mb(), setup_rss_mb=setup_mb, bytes=out.stat().st_size)
    print("RESULT " + json.dumps(result), flush=True)


def measure(kind: str, env: dict, tmp: Path) -> dict:
    out = tmp / f"{kind}.{'csv' if kind == 'csv' else 'xlsx'}"
    load = load_average()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind, "--out", str(out)],
                          env=env, capture_output=True, text=True, cwd=tmp)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} measurement failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    result["load"] = load
    out.unlink(missing_ok=True)
    return result


def measure_all(env: dict, tmp: Path, targets: int, repeat: int) -> bool:
    runs: dict[str, list[dict]] = {"floor": [], "ours": [], "csv": []}
    for i in range(repeat):
        for kind in ("floor", "ours") + (("csv",) if i == 0 else ()):
            result = measure(kind, env, tmp)
            if result["rows"] != targets:
                raise RuntimeError(f"{kind} wrote {result['rows']} rows, expected {targets}")
            runs[kind].append(result)
            log(f"  run {i + 1} {kind:<5} load {result['load']:>5}: {result['seconds']:6.2f} s "
                f"{result['rows'] / result['seconds']:>8.0f} rows/s, peak RSS {result['peak_rss_mb']:.1f} MB "
                f"(after app setup {result['setup_rss_mb']:.1f} MB)")
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
    labels = {"floor": "XlsxWriter constant_memory from a list (floor)",
              "ours": "write_xlsx from the database (ours)",
              "csv": "write_csv from the database"}
    log("")
    header = f"{'measurement (best run)':<48} {'rows':>8} {'s':>7} {'rows/s':>9} {'peak RSS MB':>12} {'file MB':>8}"
    log(header)
    log("-" * len(header))
    for kind in ("floor", "ours", "csv"):
        r = best[kind]
        log(f"{labels[kind]:<48} {r['rows']:>8} {r['seconds']:>7.2f} {r['rows'] / r['seconds']:>9.0f} "
            f"{r['peak_rss_mb']:>12.1f} {r['bytes'] / 1e6:>8.1f}")
    log("  (the floor's RSS holds the whole list in memory; only its rows/s matters)")
    ratio = best["floor"]["seconds"] / best["ours"]["seconds"]
    rss = max(r["peak_rss_mb"] for r in runs["ours"])
    ok_ratio, ok_rss = ratio >= AIM_RATIO, rss <= AIM_RSS_MB
    log("")
    log(f"ours/floor {ratio:.2f} ({'met' if ok_ratio else 'NOT met'}: >= {AIM_RATIO}); ours peak RSS {rss:.0f} MB "
        f"({'met' if ok_rss else 'NOT met'}: <= {AIM_RSS_MB:g} MB)")
    return ok_ratio and ok_rss


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", type=int, default=100_000, help="targets to load and export (default 100000)")
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the floor/ours pair; the best of each counts")
    ap.add_argument("--keep-db", action="store_true", help="keep the database (and its temp dir) at the end")
    ap.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        run_child(args.child, args.out)
        return 0

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    url, tmp, cleanup = make_database(args.database)
    env = dict(os.environ, DATABASE_URL=url, CRM_INSTANCE_PATH=tmp, SECRET_KEY=uuid.uuid4().hex,
               CRM_REDIS_PREFIX=f"crmbench-{uuid.uuid4().hex[:6]}")
    env.pop("CRM_SQL_ECHO", None)
    env.pop("FLASK_APP", None)
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "CRM_INSTANCE_PATH", "SECRET_KEY", "CRM_REDIS_PREFIX")})
    rc = 1
    try:
        from flask_migrate import upgrade

        from crm import create_app
        from crm.extensions import db

        app = create_app({"INSTANCE_PATH": tmp})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            info = load(args.targets)
            db.session.remove()
            db.engine.dispose()
        log(f"{args.database}: loaded {args.targets:,} targets over {info['chains']} chains ({info['nodes']} nodes), "
            f"{info['firms']} local firms, {info['leads']:,} leads in {time.perf_counter() - started:.1f} s; "
            f"{os.cpu_count()} CPUs, load average {load_average()}")
        met = measure_all(env, Path(tmp), args.targets, max(1, args.repeat))
        log(f"aims {'met' if met else 'NOT met'}")
        if args.keep_db:
            log(f"kept: {url}")
        rc = 0 if met else 1
    except KeyboardInterrupt:
        log("\ninterrupted; cleaning up")
        rc = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        if not env.get("REDIS_URL"):
            try:
                from crm.embedded_redis import stop_server

                stop_server(tmp)
            except Exception:  # noqa: BLE001
                pass
        cleanup(args.keep_db)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return rc


if __name__ == "__main__":
    sys.exit(main())

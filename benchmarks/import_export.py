#!/usr/bin/env python
"""Import/export benchmark: the lead interchange file at 100,000 leads.

    /work/main/.venv/bin/python benchmarks/import_export.py [--rows N] [--keep-db]

Export half (this file's measure_export):

1. creates a throw-away PostgreSQL database crm_bench_ie_<pid>, migrates it, seeds the demo
   units, users, chains and sources and COPYs N generated leads, with the loading code of
   benchmarks/lead_list.py; then VACUUM ANALYZE;
2. runs each measurement in a fresh Python process, so each peak RSS (VmHWM) is its own:
   a. floor: the export's rows are read into a Python list first (not timed), then XlsxWriter
      (constant_memory) writes them with one typed call per non-empty cell; only the writing is
      timed. No export can beat it: it is the writer's cost alone;
   b. xlsx: crm.interchange.export (query as the list page, county-wide, default sort,
      streamed with yield_per; conversions; safe_cell; write_xlsx) to a file;
   c. csv: the same rows through write_csv to a file;
3. prints rows/s and peak RSS for each, the ratio xlsx/floor and whether the aims are met
   (xlsx >= 0.6 x floor, and xlsx and csv <= 150 MB peak RSS).

Import half (measure_import): two new interchange files of N rows (csv and xlsx, different
companies) are imported, each in a fresh process, into the database that already holds the N
loaded leads — every row checked for duplicates against them and the earlier rows of its file —
through the same code as the web import's job (crm.interchange.jobs.execute); prints rows/s and
peak RSS. Aim: csv >= 5,000 rows/s at <= 300 MB.

`--only import` (or `export`) runs one half; `--profile DIR` writes a pyinstrument profile of
each import's timed call to DIR (import-csv.txt/.html, import-xlsx.txt/.html).

The database is dropped at the end, also on Ctrl-C (unless --keep-db). Needs PostgreSQL at
127.0.0.1:5432 (user postgres, trust; BENCH_PG_URL to change) and Redis (BENCH_REDIS_URL).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `benchmarks.lead_list` and `crm` from the checkout

from benchmarks.lead_list import (  # noqa: E402
    CHUNK, REDIS_URL, VENV_BIN, clean_up, create_database, generate_chunk, load_leads, log)

AIM_RATIO = 0.6
AIM_RSS_MB = 150.0


# ---------------------------------------------------------------------------------------------
# measurements (each runs in its own process: `--child KIND`)
# ---------------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM), in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child_floor(out: Path) -> dict:
    import xlsxwriter

    from crm.interchange.export import CountyWideReader, export_rows
    from crm.leads.queries import LeadFilters

    rows = list(export_rows(CountyWideReader(), LeadFilters()))  # not timed: the input
    started = time.perf_counter()
    workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    sheet = workbook.add_worksheet("leads")
    write_string, write_number, write_date = sheet.write_string, sheet.write_number, sheet.write_datetime
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            kind = type(value)
            if kind is str:
                write_string(r, c, value)
            elif kind is float or kind is int:
                write_number(r, c, value)
            elif kind is date:
                write_date(r, c, value)
    workbook.close()
    return {"rows": len(rows) - 1, "seconds": time.perf_counter() - started}


def child_export(kind: str, out: Path) -> dict:
    from crm.interchange.export import CountyWideReader, export_rows, write_csv, write_xlsx
    from crm.leads.queries import LeadFilters

    started = time.perf_counter()
    rows = export_rows(CountyWideReader(), LeadFilters())
    if kind == "xlsx":
        count = write_xlsx(rows, str(out))
    else:
        with open(out, "wb") as fh:
            count = write_csv(rows, fh)
    return {"rows": count, "seconds": time.perf_counter() - started}


def run_child(kind: str, out: Path) -> None:
    from crm import create_app

    app = create_app()
    with app.app_context():
        if kind.startswith("import-"):
            result = child_import(out)
        else:
            result = child_floor(out) if kind == "floor" else child_export(kind, out)
    result.update(kind=kind, peak_rss_mb=peak_rss_mb(), bytes=out.stat().st_size)
    print("RESULT " + json.dumps(result), flush=True)


def measure(kind: str, env: dict, tmp: Path) -> dict:
    out = tmp / f"{kind}.{'csv' if kind == 'csv' else 'xlsx'}"
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind, "--out", str(out)],
                          env=env, capture_output=True, text=True, cwd=tmp)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} measurement failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    out.unlink(missing_ok=True)
    return result


def measure_export(env: dict, tmp: Path, rows: int) -> bool:
    """(a) floor, (b) our xlsx, (c) our csv; prints the table and returns whether aims are met."""
    results = {}
    for kind in ("floor", "xlsx", "csv"):
        log(f"measuring {kind} (fresh process)")
        results[kind] = measure(kind, env, tmp)
        if results[kind]["rows"] != rows:
            raise RuntimeError(f"{kind} wrote {results[kind]['rows']} rows, expected {rows}")
    labels = {"floor": "XlsxWriter constant_memory from a list (floor)",
              "xlsx": "export .xlsx (query + rows + write_xlsx)",
              "csv": "export .csv (query + rows + write_csv)"}
    log("")
    header = f"{'measurement':<48} {'rows':>8} {'s':>7} {'rows/s':>9} {'peak RSS MB':>12} {'file MB':>8}"
    log(header)
    log("-" * len(header))
    for kind, r in results.items():
        log(f"{labels[kind]:<48} {r['rows']:>8} {r['seconds']:>7.2f} {r['rows'] / r['seconds']:>9.0f} "
            f"{r['peak_rss_mb']:>12.1f} {r['bytes'] / 1e6:>8.1f}")
    log("  (the floor's RSS holds the whole list in memory; only its rows/s matters)")
    rate = {k: r["rows"] / r["seconds"] for k, r in results.items()}
    ratio = rate["xlsx"] / rate["floor"]
    ok_ratio = ratio >= AIM_RATIO
    ok_xlsx_rss = results["xlsx"]["peak_rss_mb"] <= AIM_RSS_MB
    ok_csv_rss = results["csv"]["peak_rss_mb"] <= AIM_RSS_MB
    log("")
    log(f"xlsx/floor {ratio:.2f} ({'met' if ok_ratio else 'NOT met'}: >= {AIM_RATIO}); "
        f"xlsx peak {results['xlsx']['peak_rss_mb']:.0f} MB ({'met' if ok_xlsx_rss else 'NOT met'}: "
        f"<= {AIM_RSS_MB:g} MB); csv peak {results['csv']['peak_rss_mb']:.0f} MB "
        f"({'met' if ok_csv_rss else 'NOT met'}: <= {AIM_RSS_MB:g} MB)")
    return ok_ratio and ok_xlsx_rss and ok_csv_rss


IMPORT_AIM_ROWS_S = 5000
IMPORT_AIM_RSS_MB = 300.0


def write_interchange_files(tmp: Path, rows: int, formats=("csv", "xlsx")) -> dict[str, Path]:
    """Two interchange files of `rows` new leads each (different seeds: one for csv, one for
    xlsx), with the Chinese headers, chain, node, source and unit names the county uses."""
    import csv

    import xlsxwriter

    from crm.demo.generate import generate_leads
    from crm.interchange.columns import COLUMNS

    def cells(lead):
        # An ordinary import creates leads up to 洽谈 (or 终止) and writes no 签约/开工 date (a lead
        # terminated after signing keeps its dates only through the ledger import).
        lead = {**lead, "signed_on": None, "started_on": None}
        if lead.get("stage") not in ("lead", "negotiating", "lost"):
            lead["stage"] = "negotiating"
        out = []
        for column in COLUMNS:
            value = lead.get(column.key)
            if column.key == "industry":
                value = CHAIN_NAMES.get(value, value)
            if isinstance(value, bool):
                value = "是" if value else "否"
            out.append(value)
        return out

    from crm.demo.data import CHAINS

    CHAIN_NAMES = {c["code"]: c["name"] for c in CHAINS}
    today = date.today()
    files = {}
    path = tmp / "线索_csv.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in COLUMNS])
        for lead in generate_leads(rows, seed=91, today=today):
            writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in cells(lead)])
    files["csv"] = path
    if "xlsx" not in formats:
        return files
    path = tmp / "线索_xlsx.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("线索")
    sheet.write_row(0, 0, [c.header for c in COLUMNS])
    for r, lead in enumerate(generate_leads(rows, seed=92, today=today), start=1):
        sheet.write_row(r, 0, ["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in cells(lead)])
    workbook.close()
    files["xlsx"] = path
    return files


def _backend_cpu() -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend connected to this database (their
    /proc entries: the server runs on this machine)."""
    from sqlalchemy import text

    from crm.extensions import db

    with db.engine.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars().all()
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return out


def child_import(path: Path) -> dict:
    from crm.auth.services import find_user
    from crm.extensions import db
    from crm.interchange import jobs, services

    user = find_user("admin")
    with path.open("rb") as fh:
        batch = services.store_upload(fh, path.name, user, user.unit, "create")
    db.session.commit()
    profile_dir = os.environ.get("BENCH_PROFILE_DIR")
    profiler = None
    if profile_dir:  # --profile: pyinstrument around the timed call only
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002)
        profiler.start()
    backends = _backend_cpu()
    started, cpu_started = time.perf_counter(), time.process_time()
    status = jobs.execute(batch)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    pg_cpu = sum(used - backends.get(pid, 0.0) for pid, used in _backend_cpu().items())
    if profiler is not None:
        profiler.stop()
        name = Path(profile_dir) / f"import-{path.suffix.lstrip('.')}"
        name.with_suffix(".txt").write_text(profiler.output_text(unicode=True, show_all=False))
        name.with_suffix(".html").write_text(profiler.output_html())
    batch = db.session.get(type(batch), batch.id)
    return {"rows": batch.total_rows, "seconds": seconds, "cpu_seconds": cpu, "pg_cpu_seconds": pg_cpu, "status": status, "created": batch.created_count,
            "skipped": batch.skipped_count, "rejected": batch.rejected_count}


def measure_import(env: dict, tmp: Path, rows: int, formats=("csv", "xlsx")) -> bool:
    """Import a new file of `rows` leads (csv, then another as xlsx) into the database that
    already holds the loaded leads — every row checked for duplicates against them and the file —
    each in a fresh process; prints rows/s and peak RSS."""
    log(f"writing the interchange files of {rows} rows ({', '.join(formats)})")
    files = write_interchange_files(tmp, rows, formats)
    results = {}
    for kind in formats:
        log(f"measuring import {kind} (fresh process; load average {os.getloadavg()[0]:.2f})")
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", f"import-{kind}",
                               "--out", str(files[kind])], env=env, capture_output=True, text=True, cwd=tmp)
        lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"import {kind} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        results[kind] = json.loads(lines[-1][len("RESULT "):])
    log("")
    header = (f"{'import':<36} {'rows':>8} {'created':>8} {'skipped':>8} {'s':>7} {'CPU s':>7} {'PG CPU s':>9} "
              f"{'rows/s':>8} {'peak RSS MB':>12}")
    log(header)
    log("-" * len(header))
    for kind, r in results.items():
        log(f"{'import .' + kind + ' (' + r['status'] + ')':<36} {r['rows']:>8} {r['created']:>8} {r['skipped']:>8} "
            f"{r['seconds']:>7.2f} {r['cpu_seconds']:>7.2f} {r['pg_cpu_seconds']:>9.2f} {r['rows'] / r['seconds']:>8.0f} "
            f"{r['peak_rss_mb']:>12.1f}")
    log("  (CPU s: the importing process's own CPU time; PG CPU s: its PostgreSQL backend's; on a loaded machine\n"
        "   the rest of s is mostly waiting for a core)")
    if "csv" not in results:
        return True  # the aim is the csv import's
    csv_rate = results["csv"]["rows"] / results["csv"]["seconds"]
    ok = csv_rate >= IMPORT_AIM_ROWS_S and results["csv"]["peak_rss_mb"] <= IMPORT_AIM_RSS_MB
    log("")
    log(f"csv import {csv_rate:.0f} rows/s at {results['csv']['peak_rss_mb']:.0f} MB "
        f"({'met' if ok else 'NOT met'}: >= {IMPORT_AIM_ROWS_S} rows/s, <= {IMPORT_AIM_RSS_MB:g} MB)")
    return ok


# ---------------------------------------------------------------------------------------------
# database
# ---------------------------------------------------------------------------------------------
def load_database(db_url: str, env: dict, tmp: Path, rows: int) -> None:
    """Migrated schema, demo county with no leads, then `rows` generated leads (as lead_list.py)."""
    import psycopg

    today = date.today()
    pool = cf.ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1),
                                  mp_context=multiprocessing.get_context("fork"))
    try:
        sizes = [min(CHUNK, rows - i) for i in range(0, rows, CHUNK)]
        futures = [pool.submit(generate_chunk, n, 2026 + i, today) for i, n in enumerate(sizes)]
        subprocess.run([str(VENV_BIN / "crm"), "db", "upgrade"], env=env, check=True, cwd=tmp,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        from crm import create_app
        from crm.demo.seed import seed_demo
        from crm.extensions import db

        app = create_app()
        with app.app_context():
            seed_demo(leads=0)  # units, users, chains, sources
            db.session.remove()
            db.engine.dispose()
        load_leads(db_url, futures, rows)
    finally:
        pool.shutdown(cancel_futures=True)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000, help="leads to load and export (default 100000)")
    ap.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    ap.add_argument("--only", choices=["export", "import"], help="run one half only (the data is loaded either way)")
    ap.add_argument("--formats", default="csv,xlsx",
                    help="the import's files, comma-separated (default csv,xlsx; csv alone skips the slow xlsx)")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="write a pyinstrument profile of each import (text and html) to DIR")
    ap.add_argument("--child", choices=["floor", "xlsx", "csv", "import-csv", "import-xlsx"], help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        run_child(args.child, args.out)
        return 0

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    db_name = f"crm_bench_ie_{os.getpid()}"
    db_url = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
    prefix = f"crm_bench_ie_{os.getpid()}_{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="crm_bench_ie_"))
    env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=REDIS_URL, SECRET_KEY=secrets.token_hex(32),
               CRM_INSTANCE_PATH=str(tmp / "instance"), CRM_REDIS_PREFIX=prefix)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        env["BENCH_PROFILE_DIR"] = str(args.profile.resolve())
    env.pop("CRM_SQL_ECHO", None)
    env.pop("FLASK_APP", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY",
                                           "CRM_INSTANCE_PATH", "CRM_REDIS_PREFIX")})
    db_created = False
    rc = 1
    try:
        create_database(db_name)
        db_created = True
        log(f"database {db_name}: loading {args.rows} leads")
        t0 = time.monotonic()
        load_database(db_url, env, tmp, args.rows)
        log(f"data ready in {time.monotonic() - t0:.1f} s")
        log(f"{args.rows} leads, {os.cpu_count()} CPUs shared by Python and PostgreSQL")
        met = True
        if args.only != "import":
            met = measure_export(env, tmp, args.rows)
            log("")
        if args.only != "export":
            formats = tuple(f for f in ("csv", "xlsx") if f in args.formats.split(","))
            met = measure_import(env, tmp, args.rows, formats) and met
        log("")
        log(f"aims {'met' if met else 'NOT met'}; total {time.monotonic() - started:.0f} s")
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
        clean_up(prefix, db_name if db_created else None, args.keep_db, db_url, tmp)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return rc


if __name__ == "__main__":
    sys.exit(main())

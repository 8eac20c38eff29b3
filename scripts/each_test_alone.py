#!/usr/bin/env python
"""Run tests one per pytest process, to show each passes alone (no test leans on another's
leftovers or on running after it). The whole suite alone takes hours; CI runs it in random order
instead, and this script checks all or a seeded sample when asked:

    .venv/bin/python scripts/each_test_alone.py                  # every test (hours)
    .venv/bin/python scripts/each_test_alone.py --sample 100 --jobs 2 --seed 7
    .venv/bin/python scripts/each_test_alone.py tests/test_leads.py   # the tests of some files

Extra environment (CRM_TEST_POSTGRES, CRM_TEST_REDIS_URL) is passed on, so the same runs on
PostgreSQL. Prints each failing test's id and the tail of its output; exits 1 if any failed.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]


def collect(paths: list[str]) -> list[str]:
    out = subprocess.run([*PYTEST, "--collect-only", *paths], cwd=ROOT, capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if "::" in line]


def run_alone(node_id: str) -> tuple[str, int, str]:
    out = subprocess.run([*PYTEST, node_id], cwd=ROOT, capture_output=True, text=True)
    return node_id, out.returncode, (out.stdout + out.stderr)[-3000:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["tests"])
    parser.add_argument("--sample", type=int, help="run this many tests chosen at random")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed")
    parser.add_argument("--jobs", type=int, default=1, help="pytest processes at once")
    args = parser.parse_args()

    tests = collect(args.paths)
    if args.sample and args.sample < len(tests):
        tests = sorted(random.Random(args.seed).sample(tests, args.sample))
    print(f"{len(tests)} tests, each in its own process", flush=True)
    failed = []
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        for n, (node_id, code, tail) in enumerate(pool.map(run_alone, tests), 1):
            # 5: every test of the id was deselected or skipped (a backend-only test): not a failure.
            ok = code in (0, 5)
            print(f"[{n}/{len(tests)}] {'ok  ' if ok else 'FAIL'} {node_id}", flush=True)
            if not ok:
                failed.append((node_id, tail))
    for node_id, tail in failed:
        print(f"\n==== {node_id}\n{tail}")
    print(f"\n{len(tests) - len(failed)} passed alone, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

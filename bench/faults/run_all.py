#!/usr/bin/env python
"""`make reliability`: every fault scenario and the bad-input checks, then a PASS/FAIL summary table.

Each scenario runs in its own process (see harness.py) against ``blu_rel_<name>`` on the PostgreSQL
scripts/devstack.py finds, and its own redis-server. The bad-input checks are the pytest modules
marked ``reliability`` plus the CI-sized ones (webhook fuzz, schemathesis), run through devstack.

    python bench/faults/run_all.py            # everything
    python bench/faults/run_all.py s1 s6      # some scenarios only
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

SCENARIOS = [
    ("s1", "s1_worker_kill.py", "worker SIGKILLed during a day-25 run of 500 orders"),
    ("s2", "s2_omie_ban.py", "Omie bans FaturarOS (425) mid-run"),
    ("s3", "s3_bubble_outage.py", "Bubble answers 503 for a while"),
    ("s4", "s4_redis_restart.py", "Redis restarted mid-run (messages lost)"),
    ("s5", "s5_pg_terminate.py", "PostgreSQL connections dropped during work"),
    ("s6", "s6_duplicates.py", "50 concurrent duplicate triggers and webhooks"),
    ("s7", "s7_two_beats.py", "beat started twice"),
]
BAD_INPUT_TESTS = ["tests/reliability/"]


def main(argv: list[str]) -> int:
    from scripts.devstack import Services

    wanted = set(argv) or {key for key, _, _ in SCENARIOS} | {"bad-input"}
    services = Services()
    rows: list[tuple[str, str, str, str]] = []
    try:
        env = dict(os.environ)
        env["DATABASE_URL"] = services.database_url(os.environ.get("DEVSTACK_DB_NAME", "blu_rel_template"))
        env.setdefault("REDIS_URL", services.redis_url())
        os.environ.update(env)
        from harness import template_prepare

        template_prepare()
        for key, script, title in SCENARIOS:
            if key not in wanted:
                continue
            print(f"\n=== {key}: {title}", flush=True)
            started = time.time()
            proc = subprocess.run([sys.executable, str(HERE / script)], cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=1800)
            match = re.search(r"^RESULT (\S+) (PASS|FAIL) (.*)$", proc.stdout, re.M)
            if match is None:
                print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
                rows.append((key, title, "FAIL", f"no result (exit {proc.returncode})"))
            else:
                print(match.group(0), flush=True)
                if match.group(2) == "FAIL":
                    print(proc.stderr[-3000:])
                rows.append((key, title, match.group(2), match.group(3)))
            print(f"    ({time.time() - started:.0f} s)", flush=True)
        if "bad-input" in wanted:
            print("\n=== bad input: webhook fuzz, schemathesis", flush=True)
            proc = subprocess.run([sys.executable, "scripts/devstack.py", "test", "-q", *BAD_INPUT_TESTS], cwd=ROOT,
                                  env={**os.environ, "RELIABILITY_FULL": "1"},
                                  capture_output=True, text=True)
            tail = [line for line in proc.stdout.splitlines() if line.strip()][-1:] or ["(no output)"]
            print(proc.stdout[-2000:])
            rows.append(("bad-input", "webhook fuzz + schemathesis", "PASS" if proc.returncode == 0 else "FAIL", tail[0]))
    finally:
        services.stop()
    width = max(len(t) for _, t, _, _ in rows) if rows else 10
    print("\nReliability summary")
    print(f"{'':4} {'scenario':{width}}  result  figures")
    for key, title, result, figures in rows:
        print(f"{key:4} {title:{width}}  {result:6}  {figures}")
    return 0 if rows and all(r[2] == "PASS" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python
"""`make reliability`: every fault scenario and the bad-input checks, then a PASS/FAIL summary table.

Each scenario runs in its own process (see harness.py) against ``blu_rel_<name>`` on the PostgreSQL
scripts/devstack.py finds, and its own redis-server. The bad-input checks are the pytest modules
marked ``reliability`` plus the CI-sized ones (webhook fuzz, schemathesis), run through devstack.

    python bench/faults/run_all.py                    # everything, once
    python bench/faults/run_all.py s1 s6              # some scenarios only
    python bench/faults/run_all.py --repeat 10 s4 s4b # each chosen scenario 10 times: pass rate per scenario

With ``--repeat N`` the whole selection runs N times in a row (round after round, so a slow machine
hurts every scenario alike); the table gives each scenario's passes/N, and every run's line is printed
as it ends. ``--results FILE`` appends one JSON line per run (scenario, round, result, figures,
seconds, load average) for docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
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
    ("s4", "s4_redis_restart.py", "Redis killed mid-run, back after 5 s (messages lost)"),
    ("s4b", "s4b_redis_twice.py", "Redis killed twice within 3 s"),
    ("s4c", "s4c_redis_down_60s.py", "Redis stopped for 60 s"),
    ("s5", "s5_pg_terminate.py", "PostgreSQL connections dropped during work"),
    ("s6", "s6_duplicates.py", "50 concurrent duplicate triggers and webhooks"),
    ("s7", "s7_two_beats.py", "beat started twice"),
]
BAD_INPUT_TESTS = ["tests/reliability/"]


def run_scenario(key: str, script: str, env: dict[str, str]) -> tuple[str, str, str]:
    """(PASS|FAIL, figures, output tail for a failure)."""
    proc = subprocess.run([sys.executable, str(HERE / script)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1800)
    match = re.search(r"^RESULT (\S+) (PASS|FAIL) (.*)$", proc.stdout, re.M)
    if match is None:
        return "FAIL", f"no result (exit {proc.returncode})", proc.stdout[-3000:] + "\n" + proc.stderr[-3000:]
    return match.group(2), match.group(3), proc.stderr[-3000:] if match.group(2) == "FAIL" else ""


def run_bad_input() -> tuple[str, str, str]:
    proc = subprocess.run([sys.executable, "scripts/devstack.py", "test", "-q", *BAD_INPUT_TESTS], cwd=ROOT,
                          env={**os.environ, "RELIABILITY_FULL": "1"}, capture_output=True, text=True)
    tail = [line for line in proc.stdout.splitlines() if line.strip()][-1:] or ["(no output)"]
    return ("PASS" if proc.returncode == 0 else "FAIL"), tail[0], proc.stdout[-2000:] if proc.returncode else ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="scenario keys (s1 … s7, s4b, s4c) and/or bad-input; default: all")
    parser.add_argument("--repeat", type=int, default=1, help="run the selection N times; pass rate per scenario")
    parser.add_argument("--results", type=Path, help="append one JSON line per run to this file")
    args = parser.parse_args(argv)
    keys = {key for key, _, _ in SCENARIOS} | {"bad-input"}
    unknown = set(args.only) - keys
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    wanted = set(args.only) or keys

    from scripts.devstack import Services

    services = Services()
    runs: dict[str, list[str]] = {}
    titles = {key: title for key, _, title in SCENARIOS} | {"bad-input": "webhook fuzz + schemathesis"}
    last: dict[str, str] = {}
    try:
        env = dict(os.environ)
        env["DATABASE_URL"] = services.database_url(os.environ.get("DEVSTACK_DB_NAME", "blu_rel_template"))
        env.setdefault("REDIS_URL", services.redis_url())
        os.environ.update(env)
        from harness import template_prepare

        template_prepare()
        selection = [(k, s, t) for k, s, t in SCENARIOS if k in wanted]
        if "bad-input" in wanted:
            selection.append(("bad-input", "", titles["bad-input"]))
        for round_no in range(1, args.repeat + 1):
            for key, script, title in selection:
                print(f"\n=== {key}: {title}" + (f"  (run {round_no}/{args.repeat})" if args.repeat > 1 else ""), flush=True)
                started = time.time()
                result, figures, tail = run_bad_input() if key == "bad-input" else run_scenario(key, script, env)
                seconds = time.time() - started
                print(f"RESULT {key} {result} {figures}\n    ({seconds:.0f} s, load {os.getloadavg()[0]:.1f})", flush=True)
                if tail:
                    print(tail)
                runs.setdefault(key, []).append(result)
                last[key] = figures
                if args.results:
                    with args.results.open("a") as out:
                        out.write(json.dumps({"scenario": key, "round": round_no, "of": args.repeat, "result": result,
                                              "figures": figures, "seconds": round(seconds),
                                              "load": [round(x, 2) for x in os.getloadavg()],
                                              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n")
    finally:
        services.stop()
    width = max((len(titles[k]) for k in runs), default=10)
    print("\nReliability summary" + (f" ({args.repeat} runs each)" if args.repeat > 1 else ""))
    print(f"{'':9} {'scenario':{width}}  pass rate  result  last figures")
    for key, results in runs.items():
        passes = results.count("PASS")
        verdict = "PASS" if passes == len(results) else "FAIL"
        print(f"{key:9} {titles[key]:{width}}  {passes:>3}/{len(results):<3}    {verdict:6}  {last[key]}")
    return 0 if runs and all(r == "PASS" for results in runs.values() for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

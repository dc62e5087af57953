#!/usr/bin/env python
"""Markdown table of pass rates from run_all.py --results JSON lines (for docs/reliability.md).

    python bench/faults/summarize.py var/relruns/*.jsonl [--since 2026-11-29T19:57:35Z]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--since", default="", help="only runs that ended at or after this UTC time (ISO)")
    args = parser.parse_args()
    runs: dict[str, list[dict]] = defaultdict(list)
    for path in args.files:
        for line in path.read_text().splitlines():
            run = json.loads(line)
            if run["at"] >= args.since:
                runs[run["scenario"]].append(run)
    print("| scenario | runs | passed | longest PASS streak | seconds (min–max) | load average at the end (1-min, min–max) |")
    print("|---|---|---|---|---|---|")
    for key in sorted(runs, key=lambda k: (k == "bad-input", k)):
        rs = sorted(runs[key], key=lambda r: r["at"])
        streak = best = 0
        for r in rs:
            streak = streak + 1 if r["result"] == "PASS" else 0
            best = max(best, streak)
        secs = [r["seconds"] for r in rs]
        loads = [r["load"][0] for r in rs]
        passed = sum(r["result"] == "PASS" for r in rs)
        print(f"| {key} | {len(rs)} | {passed}/{len(rs)} | {best} | {min(secs)}–{max(secs)} | {min(loads):.1f}–{max(loads):.1f} |")


if __name__ == "__main__":
    main()

"""bench/nfse_backfill.py at a tiny size, so the bench cannot rot (issue 23; the numbers: docs/benchmarks.md).

Real processes (gunicorn, a Celery worker and beat, the backfill command SIGKILLed and run again)
against a database of their own (``<test database>_nfsebench``, recreated) and the tests' Redis db.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from testsupport.processes import url_with_path

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_nfse_backfill_bench_runs_and_reports_no_duplicates():
    database = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blu")
    name = database.rsplit("/", 1)[-1].split("?")[0] or "blu"
    env = dict(os.environ, BENCH_DATABASE_URL=url_with_path(database, f"/{name}_nfsebench"), BENCH_REDIS_URL=settings.REDIS_URL)
    result = subprocess.run(
        [sys.executable, "bench/nfse_backfill.py", "--invoices", "16", "--orders", "10", "--days", "2", "--kill-at", "0.25",
         "--scale", "0.05", "--per-minute", "120", "--concurrency", "2", "--web-workers", "2", "--timeout", "240"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=420)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "RESULT                     ok" in out
    assert "backfill SIGKILLed" in out  # the first run was killed mid-way and the next one finished
    assert "duplicates                 0 document rows" in out
    assert "documents stored           32 rows" in out

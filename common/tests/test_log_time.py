"""Every log line carries one zone: UTC, ISO 8601 with the offset, in every process."""

import logging
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from testsupport.processes import free_port

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["json", "text"])
def test_both_formats_write_utc_iso_8601_with_offset(name):
    config = dict(settings.LOGGING["formatters"][name])
    factory = config.pop("()")
    module, cls = factory.rsplit(".", 1)
    formatter = getattr(__import__(module, fromlist=[cls]), cls)(**{("fmt" if k == "format" else k): v for k, v in config.items()})
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "olá", None, None)
    record.request_id = "-"
    record.created = 0.0
    assert "1970-01-01T00:00:00.000+00:00" in formatter.format(record)


@pytest.mark.slow
def test_gunicorn_lines_use_the_same_zone(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--access-logfile", "-"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "config.django.test", "LOG_FORMAT": "text"},
    )
    try:
        deadline = time.monotonic() + 30
        import urllib.request

        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=1).read()
                break
            except OSError:
                time.sleep(0.3)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    lines = [line for line in out.splitlines() if line.strip()]
    assert any("Booting worker" in line or "Listening at" in line for line in lines), out
    assert any("/health/live" in line for line in lines), out
    for line in lines:
        if line[:4].isdigit():
            assert ISO_UTC.match(line), line
    assert not any(re.search(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\]", line) for line in lines), out

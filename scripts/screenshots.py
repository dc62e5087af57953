#!/usr/bin/env python
"""Screenshots of the ops backoffice (docs/screenshots/*.png), taken with headless Chromium.

Builds its own database (<name>_screenshots, dropped and recreated each run) with the demo data of
scripts/screenshot_data.py, serves the project with gunicorn on a free port, logs in through the
admin's login form as a member of the ``Financeiro`` group (what finance sees: every button), and
saves full-page screenshots of the dashboard, the order list, an order page and a confirmation page.

    eval "$(python scripts/devstack.py env 2>/dev/null)"   # or DATABASE_URL / REDIS_URL of your own
    python scripts/screenshots.py --redis-db 13

Needs Debian's chromium and chromedriver (/usr/bin/chromium, /usr/bin/chromedriver) and selenium.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testsupport.processes import free_port, url_with_path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--window-size=1440,1000", "--lang=pt-BR",
]
WIDTH = 1440
PASSWORD = "demo-screenshots-123"




def _recreate_database(base_db: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url_with_path(base_db, "/postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "pt-BR,pt"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def _shoot(driver, url: str, path: Path, *, max_height: int = 4000) -> None:
    driver.set_window_size(WIDTH, 1000)
    driver.get(url)
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(WIDTH, min(max(int(height), 1000), max_height))
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    print(f"  {path}  ({url})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-db", type=int, default=13, help="a Redis database no other process uses (it is flushed)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--viewport", action="store_true", help="only what fits the 1440×1000 window (no full-page height)")
    args = parser.parse_args()

    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blu_omie")
    db_name = urlsplit(base_db).path.lstrip("/") + "_screenshots"
    _recreate_database(base_db, db_name)
    redis_url = url_with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), f"/{args.redis_db}")
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url_with_path(base_db, "/" + db_name), REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url,
        DJANGO_SETTINGS_MODULE="config.django.base", DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="local-bench-only-key-not-a-deployment-secret-0123456789", SANDBOX="false",
        DJANGO_STATIC_ROOT=str(ROOT / "var" / "screenshots_static"), FLOWER_URL="http://127.0.0.1:5555/",
        DJANGO_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING",
    )
    os.environ.update(env)

    import django

    django.setup()
    import redis
    from django.core.management import call_command

    redis.Redis.from_url(redis_url).flushdb()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from scripts.screenshot_data import demo_data

    pages = demo_data(password=PASSWORD)
    from django.db import connections

    connections.close_all()

    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    driver = None
    try:
        _wait_for_port(port, web)
        base = f"http://127.0.0.1:{port}"
        driver = _driver()
        driver.set_window_size(WIDTH, 1000)
        driver.get(f"{base}/admin/login/")
        driver.find_element("name", "username").send_keys(pages["username"])
        driver.find_element("name", "password").send_keys(PASSWORD)
        driver.find_element("css selector", "input[type=submit]").click()
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            WebDriverWait(driver, 30).until(lambda d: "/login/" not in d.current_url)
        except Exception:
            driver.save_screenshot(str(out / "login_failed.png"))
            raise SystemExit(f"login failed (see {out / 'login_failed.png'})") from None
        print("screenshots:")
        for name, path in pages["shots"]:
            _shoot(driver, base + path, out / f"{name}.png", max_height=1000 if args.viewport else 4000)
    finally:
        if driver is not None:
            driver.quit()
        web.terminate()
        web.wait(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())

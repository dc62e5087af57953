"""Headless Chromium for the browser walks (Debian's chromium + chromium-driver), one way for every test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this network refuses.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=pt-BR",
         "--disable-background-networking", "--no-first-run")


def headless_chromium(*, window: str = "1440,1000", on_new_document: str = "", browser_log: bool = False) -> Any:
    """A driver; ``on_new_document`` is a script run before each page's own (e.g. recording CSP violations)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--window-size={window}"):
        options.add_argument(flag)
    if browser_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    if on_new_document:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": on_new_document})
    return driver

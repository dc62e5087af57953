"""Content-Security-Policy: the header is on every page, and the admin, the dashboard and the API docs
work under it in a real browser (headless Chromium logs no CSP violation, and the pages render).

Before: no CSP at all, and /v1/docs/ loaded Swagger UI from a CDN (``@latest``, no integrity) with
an inline script, so it was blank on a machine without internet.
"""

from __future__ import annotations

import json

import pytest

from billing.tests.factories import order_in_state
from orders.statuses import BillingStatus
from testsupport.browser import headless_chromium

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "s3nha-forte-123"
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    {directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample}));
"""


def test_every_page_sends_the_policy(client, user_factory):
    client.force_login(user_factory("chefe", is_staff=True, is_superuser=True))
    for path in ("/admin/login/", "/admin/", "/admin/orders/order/", "/v1/docs/"):
        policy = client.get(path)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    docs = client.get("/v1/docs/").content.decode()
    assert "cdn" not in docs.lower() and "<script>" not in docs  # local files, start-up script as a file
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs


@pytest.fixture
def browser():
    driver = headless_chromium(window="1400,1000", on_new_document=RECORD_VIOLATIONS, browser_log=True)
    yield driver
    driver.quit()


def test_admin_dashboard_and_docs_log_no_csp_violation_in_chromium(browser, live_server, user_factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    user_factory("chefe", is_staff=True, is_superuser=True)
    order = order_in_state(BillingStatus.ISSUED)
    base = live_server.url

    browser.get(f"{base}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("chefe")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "/login/" not in d.current_url)

    pages = {
        "/admin/": "#content",  # the dashboard
        "/admin/orders/order/": "#result_list",
        f"/admin/orders/order/{order.pk}/change/": "#content-main",
        "/admin/orders/actionlog/": "#changelist",
        "/v1/docs/": ".swagger-ui .info .title",  # Swagger UI rendered the schema, from local files
    }
    problems = {}
    for path, rendered in pages.items():
        browser.get(base + path)
        WebDriverWait(browser, 30).until(lambda d, css=rendered: d.find_elements(By.CSS_SELECTOR, css))
        violations = browser.execute_script("return window.__csp")
        console = [entry["message"] for entry in browser.get_log("browser")
                   if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]]
        if violations or console:
            problems[path] = {"violations": violations, "console": console}
    assert not problems, json.dumps(problems, indent=1)

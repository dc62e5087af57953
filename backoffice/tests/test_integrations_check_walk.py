"""The go-live page in a real browser, with Omie at its worst: answering only after 40 s (longer than
gunicorn's worker timeout) and unreachable. The page must answer within 2 s each time, then show
Omie's red row with the reason in Portuguese; never a 500.

The check runs in a real Celery worker; Bubble, BrasilAPI and Pagar.me are the sandbox fakes on the
live server, Omie a local server that sleeps (or a port nobody listens on).
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group
from selenium.webdriver.support.ui import WebDriverWait

from backoffice.ops_language import ops_text_problems
from backoffice.tests.test_ops_day_walk import CHROMEDRIVER, CHROMIUM, PASSWORD, browser  # noqa: F401
from billing.permissions import FINANCE_GROUP
from integrations.models import IntegrationCheckRun
from testsupport.processes import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium and chromium-driver"),
]

OMIE_SLOW_SECONDS = 40


class _SlowOmie(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        time.sleep(OMIE_SLOW_SECONDS)
        body = b'{"faultstring": "tarde demais", "faultcode": "SOAP-ENV:Server"}'
        try:
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up long ago


@pytest.fixture
def slow_omie() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowOmie)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def finance_user(user_factory):
    user = user_factory("bruno.financeiro", password=PASSWORD, is_staff=True, first_name="Bruno", last_name="Lima")
    user.groups.add(Group.objects.get_or_create(name=FINANCE_GROUP)[0])
    return user


def _check_in_browser(driver, base: str) -> str:
    driver.get(f"{base}/admin/login/?next=/admin/verificar-integracoes/")
    driver.find_element("name", "username").send_keys("bruno.financeiro")
    driver.find_element("name", "password").send_keys(PASSWORD)
    driver.find_element("css selector", "input[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: "verificar-integracoes" in d.current_url)
    started = time.monotonic()
    driver.find_element("css selector", "input[type=submit][value='Verificar agora']").click()
    WebDriverWait(driver, 10).until(lambda d: "verificacao=" in d.current_url and d.find_elements("id", "check-run"))
    answered = time.monotonic() - started
    assert answered < 2.0, f"the page took {answered:.1f} s to answer"
    assert "Erro" not in driver.title and "Server Error" not in driver.page_source
    # Then the page refreshes itself until the worker's report is there.
    WebDriverWait(driver, 40, poll_frequency=0.5).until(lambda d: d.find_elements("id", "check-verdict"))
    text = driver.find_element("tag name", "body").text
    assert ops_text_problems(text) == [], ops_text_problems(text)
    assert "pedida por Bruno Lima" in text
    omie = driver.find_element("xpath", "//fieldset[contains(@class,'check-system')][h2[starts-with(normalize-space(.),'Omie')]]")
    red = [row.text for row in omie.find_elements("css selector", "tr.verdict-error")]
    assert red, omie.text
    return " | ".join(red)


def _worker_env(omie_url: str, fake_bubble, fake_brasilapi, fake_pagarme) -> dict[str, str]:
    return {"OMIE_BASE_URL": omie_url, "OMIE_APP_KEY": "check-key", "OMIE_APP_SECRET": "check-secret",
            **fake_bubble.env, **fake_brasilapi.env, **fake_pagarme.env}


def test_omie_answering_in_40_seconds_is_a_red_row_within_seconds_not_a_500(
        live_server, browser, finance_user, slow_omie, celery_worker_process, fake_bubble, fake_brasilapi,  # noqa: F811
        fake_pagarme):
    celery_worker_process(queues="default", **_worker_env(slow_omie, fake_bubble, fake_brasilapi, fake_pagarme))
    started = time.monotonic()
    red = _check_in_browser(browser, live_server.url)
    assert "Omie não respondeu em 10 s" in red, red
    assert time.monotonic() - started < 30  # the 10 s bound, not Omie's 40 s
    run = IntegrationCheckRun.objects.get()
    assert run.status == IntegrationCheckRun.Status.DONE and run.requested_by == finance_user and run.verdict == "error"


def test_omie_unreachable_is_a_red_row_with_the_reason(
        live_server, browser, finance_user, celery_worker_process, fake_bubble, fake_brasilapi, fake_pagarme):  # noqa: F811
    closed = f"http://127.0.0.1:{free_port()}/api/v1/"
    celery_worker_process(queues="default", **_worker_env(closed, fake_bubble, fake_brasilapi, fake_pagarme))
    red = _check_in_browser(browser, live_server.url)
    assert "Omie inacessível" in red and "Verifique OMIE_BASE_URL" in red, red


def test_without_a_worker_the_page_says_so_instead_of_waiting_forever(client, finance_user):
    client.force_login(finance_user)
    asked = client.post("/admin/verificar-integracoes/", {})
    assert asked.status_code == 302
    IntegrationCheckRun.objects.update(created_at=IntegrationCheckRun.objects.get().created_at.replace(year=2020))
    page = client.get(asked["Location"]).content.decode()
    assert "Nenhum worker do Celery começou a verificação" in page and 'http-equiv="refresh"' not in page
    assert IntegrationCheckRun.objects.get().status == IntegrationCheckRun.Status.FAILED

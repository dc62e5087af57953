"""The ops day, in a real browser (headless Chromium, Debian's chromium + chromedriver, via selenium).

An ``Ops`` user and a ``Financeiro`` user walk what the first day of ops looks like: approve a hold,
bill a day-25 order now, retry a city-hall rejection, cancel an NF, record a manual NF, move a paid
order's money to the customer's current account and use it on another order, an Ops user meeting a
Financeiro action (greyed out with the reason, and its URL refused on a pt-BR page), and an export.

Every page and message seen on the way is checked against backoffice/ops_language.py (English admin
strings, raw field keys, dotted Python paths, money not in ``R$ 1.234,56`` form); every enabled
button the walk presses must then succeed (no "recusado" after an enabled button).
"""

from __future__ import annotations

import io
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from selenium.webdriver.support.ui import WebDriverWait

from backoffice.ops_language import ops_text_problems, visible_text
from billing.models import CustomerAccount, ExportJob, Invoice
from billing.tests.factories import OrderFactory, order_in_state
from common.dates import today_sp
from orders.models import Order
from testsupport.browser import CHROMEDRIVER, CHROMIUM, headless_chromium

PASSWORD = "walk-s3nha-forte-123"
CUSTOMER = "1671702337369x555000000000000001"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium and chromium-driver"),
]


class Walk:
    """A logged-in browser that checks every page it sees."""

    def __init__(self, driver, base: str) -> None:
        self.driver, self.base = driver, base
        self.seen: list[str] = []
        self.problems: list[str] = []

    def login(self, username: str) -> None:
        self.driver.delete_all_cookies()
        self.driver.get(f"{self.base}/admin/login/")
        self.driver.find_element("name", "username").send_keys(username)
        self.driver.find_element("name", "password").send_keys(PASSWORD)
        self.driver.find_element("css selector", "input[type=submit]").click()
        WebDriverWait(self.driver, 20).until(lambda d: "/login/" not in d.current_url, f"{username} could not log in")

    def check(self) -> str:
        """The page's text as seen and as in the HTML (collapsed sections too) against the forbidden list."""
        url = self.driver.current_url.replace(self.base, "")
        self.seen.append(url)
        shown = self.driver.find_element("tag name", "body").text
        for problem in {*ops_text_problems(shown), *ops_text_problems(visible_text(self.driver.page_source))}:
            self.problems.append(f"{url}: {problem}")
        return shown

    def open(self, path: str) -> str:
        self.driver.get(self.base + path)
        return self.check()

    def order_page(self, order: Order, *, buttons: bool = False) -> str:
        """The order page; with ``buttons``, also every enabled button's confirmation page, which must not warn of a refusal."""
        text = self.open(f"/admin/orders/order/{order.pk}/change/")
        if buttons:
            links = [(a.text, a.get_attribute("href")) for a in self.driver.find_elements("css selector", ".ops-actions a.ops-button")]
            for label, href in links:
                self.driver.get(href)
                confirm = self.check()
                assert "será recusado" not in confirm, f"{label!r} is enabled on {order} but its page says it will be refused"
            self.driver.get(f"{self.base}/admin/orders/order/{order.pk}/change/")
        return text

    def press(self, order: Order, label: str, fill: dict[str, str] | None = None) -> str:
        """On the order page, press the ENABLED button ``label``, fill the confirmation form, confirm; it must succeed."""
        self.order_page(order)
        buttons = [b for b in self.driver.find_elements("css selector", ".ops-actions a.ops-button") if b.text == label]
        assert buttons, f"no enabled button {label!r} on {order}"
        buttons[0].click()
        WebDriverWait(self.driver, 20).until(lambda d: "/acao/" in d.current_url)
        self.check()
        for name, value in (fill or {}).items():
            fields = self.driver.find_elements("name", name)
            if fields and fields[0].get_attribute("type") == "radio":
                next(f for f in fields if f.get_attribute("value") == value).click()
            elif fields and fields[0].get_attribute("type") == "date":  # typed input depends on the browser's locale
                self.driver.execute_script("arguments[0].value = arguments[1]", fields[0], value)
            else:
                fields[0].clear()
                fields[0].send_keys(value)
        before = self.driver.current_url
        self.driver.find_element("css selector", ".submit-row input[type=submit]").click()
        WebDriverWait(self.driver, 20).until(
            lambda d: d.current_url != before or d.find_elements("css selector", ".problem-error, .errorlist"))
        text = self.check()
        errors = [e.text for e in self.driver.find_elements("css selector", ".messagelist .error, .problem-error, .errorlist")]
        assert not errors, f"{label!r} was offered (enabled) and then refused: {errors}"
        success = [e.text for e in self.driver.find_elements("css selector", ".messagelist .success")]
        assert success and success[0].startswith(label), f"{label!r}: no success message ({text[:300]})"
        return success[0]


@pytest.fixture
def browser():
    driver = headless_chromium(window="1440,1000")
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


@pytest.fixture
def people(user_factory):
    made = {}
    for username, group in (("ana.ops", "Ops"), ("bruno.financeiro", "Financeiro")):
        user = user_factory(username, password=PASSWORD, is_staff=True, first_name=username.split(".")[0].title())
        user.groups.add(Group.objects.get(name=group))
        made[group] = user
    return made


@pytest.fixture
def day():
    later = today_sp() + timedelta(days=10)
    return {
        "hold": order_in_state("ON_HOLD", customer_name="Construtora Horizonte S.A.", billing_scheduled_for=later),
        "day25": order_in_state("SCHEDULED", customer_name="Padaria Pão Quente Ltda", amount=Decimal("4500.00"),
                                billing_scheduled_for=later),
        "rejected": order_in_state("FAILED", customer_name="Clínica Bem Estar Ltda", amount=Decimal("2450.00"), paid=True),
        "issued": order_in_state("ISSUED", customer_name="Maria Aparecida Silva", amount=Decimal("350.00"), paid=True),
        "manual": order_in_state("SCHEDULED", customer_name="Mercado Central Ltda", amount=Decimal("15200.00"),
                                 billing_scheduled_for=later),
        "paid": OrderFactory(customer_name="Tech Soluções Digitais S.A.", customer_bubble_id=CUSTOMER, amount=Decimal("1000.50"),
                             paid=True, billing_scheduled_for=later),
        "unpaid": OrderFactory(customer_name="Tech Soluções Digitais S.A.", customer_bubble_id=CUSTOMER, amount=Decimal("800.00"),
                               billing_scheduled_for=later),
    }


def test_an_ops_day_in_the_browser(live_server, browser, people, day, settings, tmp_path):
    settings.EXPORTS_ROOT = str(tmp_path / "exports")
    walk = Walk(browser, live_server.url)

    # --- Ana (Ops): looks around, retries the city-hall rejection, records a manual NF, meets Financeiro's actions.
    walk.login("ana.ops")
    walk.open("/admin/")
    walk.open("/admin/orders/order/")
    walk.open("/admin/orders/order/?billing_status__exact=FAILED")
    walk.press(day["rejected"], "Reprocessar")
    assert Invoice.objects.filter(order=day["rejected"], next_step="REENVIAR").exists()
    said = walk.press(day["manual"], "Registrar NF manual", {"nf_number": "887", "issued_on": f"{today_sp():%d/%m/%Y}",
                                                                 "note": "Emitida no portal da prefeitura."})
    assert f"{today_sp():%d/%m/%Y}" in said, said  # the date typed as ops write it, repeated in the message
    walk.order_page(day["issued"])
    enabled = [a.text for a in browser.find_elements("css selector", ".ops-actions a.ops-button")]
    assert "Cancelar NF" not in enabled, "Ops was offered Financeiro's Cancelar NF"
    refused = walk.open(f"/admin/orders/order/{day['issued'].pk}/acao/cancel-nf/")
    assert "Financeiro" in refused and "permissão" in refused  # the pt-BR 403 page says what is missing and who can
    html = walk.open("/admin/orders/order/")
    assert "Exportar é do grupo Financeiro" in html
    walk.open("/admin/billing/invoice/faturamento-do-mes/")

    for order in day.values():  # what Ana may press on each order of the day is really possible
        walk.order_page(order, buttons=True)

    # --- Bruno (Financeiro): approves the hold, bills day 25 now, cancels an NF, moves money through the current account, exports.
    walk.login("bruno.financeiro")
    walk.open("/admin/orders/order/?retido=sim")
    walk.press(day["hold"], "Aprovar retenção", {"note": "Valor conferido com o comercial."})
    walk.press(day["day25"], "Antecipar faturamento", {"reason": "Cliente pediu a NF antes do dia 25."})
    walk.press(day["issued"], "Cancelar NF", {"reason_code": "2", "justification": "Serviço não prestado: cliente desistiu."})
    message = walk.press(day["paid"], "Transferir para conta corrente", {"reason": "Pagamento em duplicidade."})
    assert "R$ 1.000,50" in message
    assert CustomerAccount.objects.get(customer_bubble_id=CUSTOMER).balance == Decimal("1000.50")
    walk.press(day["unpaid"], "Usar conta corrente")
    assert CustomerAccount.objects.get(customer_bubble_id=CUSTOMER).balance == Decimal("200.50")
    for order in day.values():
        walk.order_page(order, buttons=True)
    walk.open("/admin/billing/customeraccount/")
    walk.open(f"/admin/orders/order/{day['unpaid'].pk}/change/")
    walk.open("/admin/orders/actionlog/")
    walk.open("/admin/billing/invoice/")
    walk.open("/admin/billing/invoice/faturamento-do-mes/")

    # The export: the link on the list, the file, the job's page.
    walk.open("/admin/orders/order/?billing_status__exact=SCHEDULED")
    links = browser.find_elements("css selector", ".export-tools a.export-link")
    href = next(a.get_attribute("href") for a in links if a.text.lower() == "excel")
    assert "billing_status__exact=SCHEDULED" in href and "formato=xlsx" in href
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    import requests
    from openpyxl import load_workbook

    response = requests.get(href, cookies=cookies, timeout=30)
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert len(rows) - 1 == Order.objects.filter(billing_status="SCHEDULED").count()
    job = ExportJob.objects.get()
    walk.open("/admin/billing/exportjob/")
    walk.open(f"/admin/billing/exportjob/{job.pk}/change/")

    assert not walk.problems, "developer text or badly formatted money reached ops:\n" + "\n".join(walk.problems)
    assert len(walk.seen) > 25


def test_chromium_is_installed_by_make_test():
    """`make test` installs Debian's chromium and chromium-driver like nginx (the walk needs them)."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "chromium" in makefile and "chromium-driver" in makefile
    assert shutil.which("chromium") or CHROMIUM.exists()

"""The second factor for staff, in a real browser (headless Chromium, Debian's chromium + chromedriver).

An ``Ops`` user with 2FA required (production's setting) logs in: the password leads to the
enrolment page, the QR code renders under the CSP, the code typed from the page's secret lets her
in and shows her recovery codes once. The next login needs a code; a recovery code works once; a
wrong code and a wrong password show the same message; repeated wrong codes lock her out.

Before: an Ops user ran "Registrar NF manual" with a password only.
"""

from __future__ import annotations

from base64 import b32decode

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django_otp.oath import totp
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from backoffice.ops_language import ops_text_problems
from common.admin_site import LOGIN_FAILED
from common.twofa.models import RecoveryCode
from testsupport.browser import CHROMEDRIVER, CHROMIUM, headless_chromium

PASSWORD = "walk-s3nha-forte-123"
RECORD_CSP_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="needs Debian's chromium and chromium-driver"),
]


@pytest.fixture
def browser():
    driver = headless_chromium(window="1280,1000", on_new_document=RECORD_CSP_VIOLATIONS)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


def phone_code(secret: str, step: int = 0) -> str:
    """What an authenticator app shows for the secret typed from the page (``step`` 30-second steps ahead)."""
    compact = secret.replace(" ", "")
    key = b32decode(compact + "=" * (-len(compact) % 8))
    return f"{totp(key, step=30, t0=0, digits=6, drift=step):06d}"


class Login:
    def __init__(self, driver, base: str) -> None:
        self.driver, self.base = driver, base

    def submit(self, password: str, code: str = "") -> str:
        """Fills the admin login from a fresh browser; returns the page's text after it answered."""
        self.driver.delete_all_cookies()
        self.driver.get(f"{self.base}/admin/login/?next=/admin/")
        self.driver.find_element(By.NAME, "username").send_keys("ana.ops")
        self.driver.find_element(By.NAME, "password").send_keys(password)
        if code:
            self.driver.find_element(By.NAME, "otp_token").send_keys(code)
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
        # The old page's readyState is "complete" too: wait for it to go away first (else its body goes stale under us).
        WebDriverWait(self.driver, 20).until(expected_conditions.staleness_of(page))
        WebDriverWait(self.driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
        return self.driver.find_element(By.TAG_NAME, "body").text

    def error(self) -> list[str]:
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, "p.errornote")]

    def is_in(self) -> bool:
        self.driver.get(f"{self.base}/admin/")
        return "/login/" not in self.driver.current_url


def test_an_ops_user_enrols_then_needs_a_code_recovery_codes_work_once_and_wrong_codes_lock_out(
        live_server, browser, user_factory, settings):
    settings.ADMIN_REQUIRE_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's delay after a wrong code is not what this test is about
    ana = user_factory("ana.ops", password=PASSWORD, is_staff=True, first_name="Ana")
    ana.groups.add(Group.objects.get(name="Ops"))
    login = Login(browser, live_server.url)

    # 1. First login: the password leads to enrolment, not into the admin.
    login.submit(PASSWORD)
    assert browser.current_url.endswith("/admin/2fa/cadastrar/"), browser.current_url
    page = browser.find_element(By.TAG_NAME, "body").text
    assert not ops_text_problems(page), ops_text_problems(page)
    qr = browser.find_element(By.CSS_SELECTOR, "#twofa-qr svg")
    assert qr.size["width"] >= 100 and qr.size["height"] >= 100  # the QR code is drawn
    assert browser.execute_script("return window.__csp") == []
    secret = browser.find_element(By.ID, "twofa-secret").text
    browser.get(f"{live_server.url}/admin/")
    assert "/login/" in browser.current_url  # nothing of the admin before the code

    browser.back()
    assert browser.find_element(By.ID, "twofa-secret").text == secret  # same secret after coming back
    browser.find_element(By.NAME, "otp_token").send_keys(phone_code(secret))
    browser.find_element(By.CSS_SELECTOR, "#twofa-enrol-form [type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "twofa-recovery-codes"))
    codes = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#twofa-recovery-codes li")]
    assert len(set(codes)) == 10
    browser.find_element(By.ID, "twofa-continue").click()
    WebDriverWait(browser, 20).until(lambda d: d.current_url.endswith("/admin/"))
    browser.get(f"{live_server.url}/admin/orders/order/")
    assert "/login/" not in browser.current_url and browser.find_elements(By.ID, "changelist")

    # 2. Next login: the password alone is refused; with the phone's code she is in.
    login.submit(PASSWORD)
    assert login.error() == [LOGIN_FAILED] and not login.is_in()
    login.submit(PASSWORD, phone_code(secret, step=1))  # the enrolment spent the current step's code
    assert login.is_in()

    # 3. A recovery code works once.
    text = login.submit(PASSWORD, codes[0])
    assert "restam 9" in text and login.is_in()
    login.submit(PASSWORD, codes[0])
    assert login.error() == [LOGIN_FAILED] and not login.is_in()

    # 4. A wrong code and a wrong password: the same message.
    login.submit(PASSWORD, "000000" if phone_code(secret, 1) != "000000" else "111111")
    wrong_code = login.error()
    login.submit("senha-errada", phone_code(secret, step=1))
    assert login.error() == wrong_code == [LOGIN_FAILED]

    # 5. Wrong codes count in the lockout: 3 failures so far, two more lock her out, even with a good
    #    second factor next (an unused recovery code, which the lockout keeps unused).
    for _ in range(2):
        login.submit(PASSWORD, "000000" if phone_code(secret, 1) != "000000" else "111111")
    locked = login.submit(PASSWORD, codes[1])
    assert not browser.find_elements(By.ID, "login-form"), locked[:300]  # the lockout page, not the form again
    assert not login.is_in()
    assert AccessAttempt.objects.filter(username="ana.ops", failures_since_start__gte=5).exists()
    assert RecoveryCode.objects.filter(used_at__isnull=True).count() == 9  # codes[1] was never even checked

"""Pagar.me v5 webhooks against the fake Pagar.me over real HTTP (live server): RS256 signatures checked
with the JWKS, Basic and HMAC when listed, and every payment confirmed with the API before it is applied."""

from __future__ import annotations

import base64
import json
import secrets
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from billing.services.webhooks import RETRY, pagarme_event_process
from billing.tests.factories import OrderFactory
from integrations.pagarme.webhooks.models import PagarmeEvent, PagarmeWebhookRefusal
from orders.models import ActionLog, Order
from orders.statuses import PaymentStatus
from sandbox.pagarme_events import pagarme_event_body, pagarme_event_build

pytestmark = pytest.mark.django_db(transaction=True)


def build(order: Order, event_type: str = "charge.paid", **kwargs) -> dict:
    return pagarme_event_build(event_type=event_type, bubble_order_id=order.bubble_id, amount=Decimal("1500.00"),
                               occurred_at=timezone.now(), **kwargs)


def post(body: bytes, **headers: str):
    return Client().post("/webhooks/pagarme", data=body, content_type="application/json", **headers)


def post_signed(fake_pagarme, event: dict, *, register: bool = True, api_status: str | None = None, **sign_kwargs):
    if register:
        fake_pagarme.register(event, api_status=api_status)
    body = pagarme_event_body(event)
    return post(body, HTTP_X_WEBHOOK_ASYMMETRIC_SIGNATURE=fake_pagarme.sign(body, **sign_kwargs))


def process_all() -> list[str]:
    return [pagarme_event_process(event_pk=pk) for pk in
            PagarmeEvent.objects.filter(status=PagarmeEvent.Status.RECEIVED).order_by("id").values_list("id", flat=True)]


def payment_updates(order: Order) -> int:
    return ActionLog.objects.filter(order=order, action="payment_update").count()


# RS256 -------------------------------------------------------------------------------------------------


def test_a_webhook_signed_by_the_fake_key_is_accepted_and_the_order_is_paid_once_the_api_confirms(fake_pagarme):
    order = OrderFactory(pf_unpaid=True)
    response = post_signed(fake_pagarme, build(order))
    assert response.status_code == 200, response.content
    event = PagarmeEvent.objects.get()
    assert event.auth_scheme == "rs256" and event.status == PagarmeEvent.Status.RECEIVED
    assert Order.objects.get(pk=order.pk).payment_status != PaymentStatus.PAID  # nothing before the API answers
    api_calls = fake_pagarme.count("api")
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    assert fake_pagarme.count("api") == api_calls + 1
    order.refresh_from_db()
    event.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID and event.api_status == "paid" and event.payment_status == PaymentStatus.PAID
    assert payment_updates(order) == 1


def _tampered(fake_pagarme, body):
    header = fake_pagarme.sign(body)
    return body.replace(b"1500", b"1", 1), header


def _wrong_kid(fake_pagarme, body):
    return body, fake_pagarme.sign(body, kid="sbx_not_in_the_jwks")


def _another_jwks_key(fake_pagarme, body):
    from sandbox.fake_pagarme.keys import kid_of, new_private_key, private_key

    return body, fake_pagarme.sign(body, key=new_private_key(), kid=kid_of(private_key()))


def _hs256(fake_pagarme, body):
    import hashlib
    import hmac

    from sandbox.fake_pagarme.keys import kid_of, private_key

    mac = base64.urlsafe_b64encode(hmac.new(b"public-key-as-secret", body, hashlib.sha256).digest()).rstrip(b"=").decode()
    return body, f"alg=HS256; kid={kid_of(private_key())}; signature={mac}"


def _missing(fake_pagarme, body):
    return body, None


def _malformed(fake_pagarme, body):
    good = fake_pagarme.sign(body)
    return body, good.replace("; ", ",")


def _not_base64(fake_pagarme, body):
    return body, fake_pagarme.sign(body).split("signature=")[0] + "signature=***"


@pytest.mark.parametrize(("forge", "reason"), [
    (_tampered, "bad_signature"),
    (_wrong_kid, "unknown_kid"),
    (_another_jwks_key, "bad_signature"),
    (_hs256, "unsupported_alg"),
    (_missing, "missing_signature"),
    (_malformed, "malformed_signature"),
    (_not_base64, "malformed_signature"),
])
def test_forged_or_broken_signatures_are_401_and_nothing_is_applied(fake_pagarme, forge, reason):
    order = OrderFactory(pf_unpaid=True)
    event = build(order)
    fake_pagarme.register(event)
    body, header = forge(fake_pagarme, pagarme_event_body(event))
    headers = {"HTTP_X_WEBHOOK_ASYMMETRIC_SIGNATURE": header} if header is not None else {}
    response = post(body, **headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert response.json()["error"]["details"]["reasons"] == {"rs256": reason}
    assert not PagarmeEvent.objects.exists()
    assert Order.objects.get(pk=order.pk).payment_status == order.payment_status
    refusal = PagarmeWebhookRefusal.objects.get()
    assert refusal.http_status == 401 and refusal.reasons == {"rs256": reason}
    assert len(refusal.body_excerpt) <= 200 and refusal.body_bytes == len(body)


def test_a_hundred_unknown_kids_within_a_minute_cost_at_most_two_jwks_fetches(fake_pagarme):
    order = OrderFactory(pf_unpaid=True)
    body = pagarme_event_body(build(order))
    answers = [post(body, HTTP_X_WEBHOOK_ASYMMETRIC_SIGNATURE=fake_pagarme.sign(body, kid=f"kid_{secrets.token_hex(6)}")).status_code
               for _ in range(100)]
    assert set(answers) == {401}
    assert 1 <= fake_pagarme.count("jwks") <= 2
    # Counted per source and minute, not a row each: the 100 refusals are one (or two, across a minute) rows.
    rows = PagarmeWebhookRefusal.objects.filter(reasons__rs256="unknown_kid")
    assert sum(rows.values_list("count", flat=True)) == 100 and rows.count() <= 2


def test_after_a_key_rotation_the_next_webhook_is_accepted_after_one_jwks_fetch(fake_pagarme):
    order = OrderFactory(pf_unpaid=True)
    assert post_signed(fake_pagarme, build(order)).status_code == 200
    assert fake_pagarme.count("jwks") == 1
    assert post_signed(fake_pagarme, build(order)).status_code == 200
    assert fake_pagarme.count("jwks") == 1  # the cached JWKS serves the known kid

    fake_pagarme.rotate()
    assert post_signed(fake_pagarme, build(order)).status_code == 200
    assert fake_pagarme.count("jwks") == 2


def test_the_jwks_unreachable_is_a_503_in_the_envelope_never_a_200(fake_pagarme):
    fake_pagarme.control(jwks_status=503)
    order = OrderFactory(pf_unpaid=True)
    response = post_signed(fake_pagarme, build(order))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "jwks_unavailable" and response["Retry-After"]
    assert not PagarmeEvent.objects.exists()
    assert PagarmeWebhookRefusal.objects.get().http_status == 503

    fake_pagarme.control(jwks_status=None)  # Pagar.me's retry gets through
    assert post_signed(fake_pagarme, build(order)).status_code == 200


def test_a_jwks_without_a_usable_signing_key_is_unavailable_not_accepting(fake_pagarme, settings, live_server):
    # The omie fake's base answers JSON without "keys": nothing to verify with.
    settings.PAGARME_JWKS_URL = f"{live_server.url}/health/live"
    order = OrderFactory(pf_unpaid=True)
    assert post_signed(fake_pagarme, build(order)).status_code == 503
    assert not PagarmeEvent.objects.exists()


# Confirmation with the API ------------------------------------------------------------------------------


def test_charge_paid_whose_charge_the_api_reports_pending_leaves_the_order_unpaid_and_flags_the_event(fake_pagarme, admin_client):
    order = OrderFactory(pf_unpaid=True)
    assert post_signed(fake_pagarme, build(order), api_status="pending").status_code == 200
    assert process_all() == [PagarmeEvent.Status.NOT_CONFIRMED]
    event = PagarmeEvent.objects.get()
    assert Order.objects.get(pk=order.pk).payment_status != PaymentStatus.PAID
    assert event.api_status == "pending" and "pending" in event.message and payment_updates(order) == 0

    page = admin_client.get("/admin/pagarme/pagarmeevent/", {"status__exact": "NOT_CONFIRMED"})
    assert page.status_code == 200
    assert event.event_id in page.content.decode() and "Não confirmado pela API" in page.content.decode()


def test_a_charge_the_api_does_not_know_changes_nothing(fake_pagarme):
    order = OrderFactory(pf_unpaid=True)
    assert post_signed(fake_pagarme, build(order), register=False).status_code == 200
    assert process_all() == [PagarmeEvent.Status.NOT_CONFIRMED]
    assert PagarmeEvent.objects.get().api_status == "not_found"
    assert Order.objects.get(pk=order.pk).payment_status != PaymentStatus.PAID


def test_the_status_the_api_returns_is_applied_not_the_bodys(fake_pagarme):
    order = OrderFactory(pf_unpaid=True)
    event = build(order)
    assert post_signed(fake_pagarme, event).status_code == 200
    fake_pagarme.charge_status_set(event["data"]["id"], "failed")  # the charge failed before we asked
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.FAILED


def test_the_api_down_keeps_the_event_waiting_and_it_is_applied_exactly_once_after_recovery(fake_pagarme, settings):
    settings.PAGARME_CONFIRM_RETRY_BASE_SECONDS = 0.01
    order = OrderFactory(pf_unpaid=True)
    assert post_signed(fake_pagarme, build(order)).status_code == 200
    fake_pagarme.control(api_status=503)
    for _ in range(3):  # every try during the outage: nothing applied, nothing lost
        assert process_all() == [RETRY]
    event = PagarmeEvent.objects.get()
    assert event.status == PagarmeEvent.Status.RECEIVED and event.attempts == 3 and "503" in event.message
    assert Order.objects.get(pk=order.pk).payment_status != PaymentStatus.PAID

    fake_pagarme.control(api_status=None)
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    assert pagarme_event_process(event_pk=event.pk) == "already_processed"
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PAID and payment_updates(order) == 1


def test_charge_paid_and_order_paid_for_one_charge_apply_one_payment(fake_pagarme):
    order = OrderFactory(pf_unpaid=True)
    charge_paid = build(order, "charge.paid")
    order_paid = build(order, "order.paid")
    assert post_signed(fake_pagarme, charge_paid).status_code == 200
    assert post_signed(fake_pagarme, order_paid).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED, PagarmeEvent.Status.DUPLICATE]
    assert payment_updates(order) == 1
    assert ActionLog.objects.filter(order=order, action="billing_emit").count() == 1


def test_confirmation_off_applies_the_body_as_before(fake_pagarme, settings):
    settings.PAGARME_CONFIRM_WITH_API = False
    order = OrderFactory(pf_unpaid=True)
    assert post_signed(fake_pagarme, build(order), register=False).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    assert fake_pagarme.count("api") == 0


# Basic and HMAC ----------------------------------------------------------------------------------------


def _basic(credentials: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def test_basic_auth_is_accepted_only_when_listed_and_only_with_the_right_credentials(fake_pagarme, settings):
    settings.PAGARME_WEBHOOK_BASIC_AUTH = "pagarme:s3nha-forte"
    order = OrderFactory(pf_unpaid=True)
    body = lambda: pagarme_event_body(build(order))  # noqa: E731 - a fresh event id each time

    assert post(body(), **_basic("pagarme:s3nha-forte")).status_code == 401  # rs256 only: Basic is not enough
    settings.PAGARME_WEBHOOK_AUTH = ["rs256", "basic"]
    assert post(body(), **_basic("pagarme:s3nha-forte")).status_code == 200
    assert post(body(), **_basic("pagarme:errada")).status_code == 401
    assert post(body(), HTTP_AUTHORIZATION="Bearer x").status_code == 401
    assert PagarmeEvent.objects.get().auth_scheme == "basic"


def test_hmac_is_accepted_only_when_listed(fake_pagarme, settings):
    from integrations.pagarme.signature import signature_header

    settings.PAGARME_WEBHOOK_SECRET = "v4-api-key"
    order = OrderFactory(pf_unpaid=True)
    body = pagarme_event_body(build(order))
    header = {"HTTP_X_HUB_SIGNATURE": signature_header(raw_body=body, secret="v4-api-key")}
    assert post(body, **header).status_code == 401
    settings.PAGARME_WEBHOOK_AUTH = ["hmac"]
    assert post(body, **header).status_code == 200
    assert PagarmeEvent.objects.get().auth_scheme == "hmac"
    # rs256 is no longer listed: a good RS256 signature alone is refused.
    other = pagarme_event_body(build(order))
    assert post(other, HTTP_X_WEBHOOK_ASYMMETRIC_SIGNATURE=fake_pagarme.sign(other)).status_code == 401


def test_any_listed_scheme_that_verifies_is_enough(fake_pagarme, settings):
    settings.PAGARME_WEBHOOK_AUTH = ["basic", "rs256"]
    settings.PAGARME_WEBHOOK_BASIC_AUTH = "u:p"
    order = OrderFactory(pf_unpaid=True)
    assert post_signed(fake_pagarme, build(order)).status_code == 200
    response = post(pagarme_event_body(build(order)))
    assert response.status_code == 401
    assert response.json()["error"]["details"]["reasons"] == {"basic": "basic_missing", "rs256": "missing_signature"}


# Client --------------------------------------------------------------------------------------------------


def test_the_client_reads_charges_and_orders_and_classifies_errors(fake_pagarme, settings):
    from integrations.pagarme.client import PagarmeClient, get_pagarme_client, jwks_fetch
    from integrations.pagarme.errors import PagarmeAuthError, PagarmeNotFound, PagarmeTransientError

    order = OrderFactory(pf_unpaid=True)
    event = build(order, "order.paid")
    fake_pagarme.register(event)
    client = get_pagarme_client()
    client.ping()
    found = client.get_order(event["data"]["id"])
    assert found.status == "paid" and found.main_charge.id == event["data"]["charges"][0]["id"]
    charge = client.get_charge(found.main_charge.id)
    assert charge.status == "paid" and charge.amount == Decimal("1500.00") and charge.order_id == event["data"]["id"]
    with pytest.raises(PagarmeNotFound):
        client.get_charge("ch_nope")
    fake_pagarme.control(api_status=503)
    with pytest.raises(PagarmeTransientError) as transient:
        client.ping()
    assert not transient.value.permanent
    fake_pagarme.control(api_status=None)
    with pytest.raises(PagarmeAuthError) as refused:
        PagarmeClient(base_url=settings.PAGARME_API_BASE_URL, secret_key="sk_wrong").ping()
    assert refused.value.permanent and "sk_wrong" not in str(refused.value)
    from integrations.pagarme.webhook_auth import jwks_usable_kids
    from sandbox.fake_pagarme.keys import kid_of, private_key

    document = jwks_fetch()
    keys = document["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["use"] == "sig" and "d" not in keys[0]  # the public half only
    assert jwks_usable_kids(document) == [kid_of(private_key())]
    assert jwks_usable_kids({"keys": [{**keys[0], "use": "enc"}, {**keys[0], "alg": "RS512"}, {**keys[0], "kty": "EC"}]}) == []


# Retention ----------------------------------------------------------------------------------------------


def test_retention_reduces_old_payloads_and_drops_old_refusals(fake_pagarme, settings):
    from datetime import timedelta

    from billing.services.webhooks import pagarme_events_reduce

    order = OrderFactory(pf_unpaid=True)
    assert post_signed(fake_pagarme, build(order)).status_code == 200
    assert post_signed(fake_pagarme, build(order)).status_code == 200
    assert post(b"{}").status_code == 401
    old, recent = PagarmeEvent.objects.order_by("id")
    past = timezone.now() - timedelta(days=settings.PAGARME_EVENT_RETENTION_DAYS + 1)
    PagarmeEvent.objects.filter(pk=old.pk).update(received_at=past)
    PagarmeWebhookRefusal.objects.update(received_at=past)

    assert pagarme_events_reduce() == 1
    assert pagarme_events_reduce() == 0  # idempotent
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.reduced_at and recent.reduced_at is None
    assert "metadata" not in json.dumps(old.payload) and "account" not in old.payload
    assert old.payload["id"] == old.event_id and old.payload["data"]["status"] == "paid" and old.payload["data"]["amount"] == 150000
    assert "metadata" in json.dumps(recent.payload)
    assert not PagarmeWebhookRefusal.objects.exists()


def test_with_redis_unreachable_the_signature_is_still_checked_with_this_processs_copy(fake_pagarme, settings):
    """The shared cache down (a closed port, not a mock): rs256 still verifies, forgeries are still 401."""
    from integrations.pagarme.webhook_auth import rs256_check

    body = b'{"id": "hook_x"}'
    assert rs256_check(raw_body=body, header=fake_pagarme.sign(body)) == (None, fake_pagarme.sign(body).split("kid=")[1].split(";")[0])
    fetches = fake_pagarme.count("jwks")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    reason, _kid = rs256_check(raw_body=body, header=fake_pagarme.sign(body))
    bad, _kid = rs256_check(raw_body=body + b" ", header=fake_pagarme.sign(body))
    unknown, _kid = rs256_check(raw_body=body, header=fake_pagarme.sign(body, kid="sbx_other"))
    assert (reason, bad, unknown) == (None, "bad_signature", "unknown_kid")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL,
                                   "KEY_PREFIX": "blu"}}
    assert fake_pagarme.count("jwks") == fetches  # this process's copy, no fetch per request

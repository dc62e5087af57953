"""Sends a signed Pagar.me v5-shaped event to the running web server's webhook endpoint, e.g.:

    manage.py sandbox_pagarme_send 1732000000202x200000000000000002 --type charge.paid
    manage.py sandbox_pagarme_send <order> --type charge.paid --api-status pending   # the API does not confirm it
    manage.py sandbox_pagarme_send <order> --scheme basic                            # or hmac (the v4 header)
    manage.py sandbox_pagarme_send <order> --type charge.paid --event-id hook_demo1 --times 2   # a duplicate
    manage.py sandbox_pagarme_send <order> --type charge.refunded --occurred-at 2026-11-20T10:00:00Z  # out of order
"""

from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from integrations.bubble.fields import field_key, type_name
from integrations.pagarme.signature import signature_header
from integrations.pagarme.webhook_auth import SIGNATURE_HEADER
from sandbox.fake_bubble.services import thing_get
from sandbox.pagarme_events import EVENT_TYPES, pagarme_event_body, pagarme_event_build


class Command(BaseCommand):
    help = ("Builds a Pagar.me v5 webhook event for a Bubble order, makes the fake Pagar.me API know its charge, "
            "signs it (RS256 with the fake's key by default) and POSTs it to SANDBOX_BASE_URL/webhooks/pagarme.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("bubble_order_id")
        parser.add_argument("--type", dest="event_type", choices=EVENT_TYPES, default="charge.paid")
        parser.add_argument("--amount", help="em reais (ex.: 350.00); padrão: valor_total do pedido no Bubble falso")
        parser.add_argument("--paid-amount", help="valor pago em reais (paid_amount); menor/maior que --amount: pago a menor/a maior")
        parser.add_argument("--canceled-amount", help="valor estornado em reais (canceled_amount), para charge.refunded / partial_canceled")
        parser.add_argument("--event-id", help="id do evento (hook_…); repita-o para demonstrar duplicatas")
        parser.add_argument("--charge-id", help="padrão: derivado do pedido (o mesmo para todos os eventos dele)")
        parser.add_argument("--occurred-at", help="updated_at/paid_at da cobrança (ISO 8601) — para eventos fora de ordem")
        parser.add_argument("--created-at", help="created_at do evento (ISO 8601); padrão: agora")
        parser.add_argument("--url", help="padrão: SANDBOX_BASE_URL/webhooks/pagarme (a porta WEB_PORT do make run)")
        parser.add_argument("--scheme", choices=("rs256", "hmac", "basic"), default="rs256",
                            help="rs256: X-Webhook-Asymmetric-Signature com a chave do Pagar.me falso; hmac: X-Hub-Signature; "
                                 "basic: usuário:senha de PAGARME_WEBHOOK_BASIC_AUTH")
        parser.add_argument("--api-status", help="situação que a API falsa informa para a cobrança (ex.: pending); padrão: a do evento")
        parser.add_argument("--no-register", action="store_true", help="não cadastra a cobrança na API falsa (ela responderá 404)")
        parser.add_argument("--secret", help="hmac: padrão PAGARME_WEBHOOK_SECRET")
        parser.add_argument("--algorithm", choices=("sha256", "sha1"), default="sha256", help="hmac")
        parser.add_argument("--bad-signature", action="store_true", help="assina/autentica errado (espera 401)")
        parser.add_argument("--times", type=int, default=1, help="envia o mesmo evento N vezes")
        parser.add_argument("--dry-run", action="store_true", help="só imprime o corpo e o cabeçalho")
        parser.add_argument("--timeout", type=float, default=10.0)

    def handle(self, *args: object, **o: object) -> None:
        order_id = str(o["bubble_order_id"])
        scheme = str(o["scheme"])
        event = pagarme_event_build(
            event_type=str(o["event_type"]),
            bubble_order_id=order_id,
            amount=self._amount(order_id, o["amount"]),
            event_id=o["event_id"] or None,  # type: ignore[arg-type]
            charge_id=o["charge_id"] or None,  # type: ignore[arg-type]
            occurred_at=self._time(o["occurred_at"], "--occurred-at"),
            created_at=self._time(o["created_at"], "--created-at"),
            paid_amount=self._money(o["paid_amount"], "--paid-amount"),
            canceled_amount=self._money(o["canceled_amount"], "--canceled-amount"),
        )
        body = pagarme_event_body(event)
        headers = {"Content-Type": "application/json", **self._auth(scheme, body, o)}
        url = str(o["url"] or f"{settings.SANDBOX_BASE_URL}/webhooks/pagarme")
        self.stdout.write(f"evento {event['id']} ({event['type']}) para o pedido {order_id}, cobrança {event['data'].get('id')}")
        if o["dry_run"]:
            self.stdout.write("\n".join(f"{k}: {v}" for k, v in headers.items()) + f"\n{body.decode()}")
            return
        if not o["no_register"]:
            from sandbox.fake_pagarme.services import event_register

            event_register(event, api_status=str(o["api_status"]) if o["api_status"] else None)
        for attempt in range(1, int(o["times"]) + 1):  # type: ignore[call-overload]
            try:
                response = requests.post(url, data=body, timeout=float(o["timeout"]), headers=headers)  # type: ignore[arg-type]
            except requests.RequestException as exc:
                raise CommandError(f"falha ao enviar para {url}: {type(exc).__name__}: {exc}") from exc
            self.stdout.write(f"[{attempt}] HTTP {response.status_code} {response.text[:2000]}")

    def _auth(self, scheme: str, body: bytes, o: dict) -> dict[str, str]:
        bad = bool(o["bad_signature"])
        if scheme == "rs256":
            from sandbox.fake_pagarme import keys

            if bad:  # the right kid, another key: what a forger without Pagar.me's private key can do
                return {SIGNATURE_HEADER: keys.sign(body, key=keys.new_private_key(), kid=keys.kid_of(keys.private_key()))}
            return {SIGNATURE_HEADER: keys.sign(body)}
        if scheme == "basic":
            credentials = settings.PAGARME_WEBHOOK_BASIC_AUTH + ("-errado" if bad else "")
            if ":" not in credentials:
                raise CommandError("Defina PAGARME_WEBHOOK_BASIC_AUTH=usuário:senha.")
            return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
        secret = str(o["secret"] or settings.PAGARME_WEBHOOK_SECRET or "")
        if not secret:
            raise CommandError("Sem segredo: defina PAGARME_WEBHOOK_SECRET ou use --secret.")
        header = signature_header(raw_body=body, secret=secret + ("-errado" if bad else ""), algorithm=str(o["algorithm"]))
        return {"X-Hub-Signature": header}

    def _amount(self, order_id: str, given: object) -> Decimal:
        if given:
            try:
                return Decimal(str(given))
            except InvalidOperation as exc:
                raise CommandError("--amount inválido") from exc
        found = thing_get(type_name=type_name("order"), bubble_id=order_id)
        value = found.data.get(field_key("order", "valor_total")) if found else None
        try:
            return Decimal(str(value)) if value is not None else Decimal("100.00")
        except InvalidOperation:
            return Decimal("100.00")

    def _money(self, value: object, name: str) -> Decimal | None:
        if value in (None, ""):
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise CommandError(f"{name} inválido") from exc
        if not amount.is_finite() or amount < 0:
            raise CommandError(f"{name} inválido")
        return amount

    def _time(self, value: object, name: str):
        if not value:
            return None
        parsed = parse_datetime(str(value))
        if parsed is None or parsed.tzinfo is None:
            raise CommandError(f"{name}: use ISO 8601 com fuso, ex. 2026-11-20T10:00:00Z")
        return parsed

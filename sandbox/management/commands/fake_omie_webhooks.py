"""Runs the fake Omie's webhook sender (sandbox only): `make run` starts it from the Procfile."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Entrega os webhooks do Omie falso (somente em sandbox), na ordem e com as regras do Omie."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=0.2)

    def handle(self, *args, **options) -> None:
        if not settings.SANDBOX:
            self.stdout.write("SANDBOX desligado: nada a fazer.")
            while True:  # idles rather than exits: the process runner would only start it again
                time.sleep(3600)
        from sandbox.fake_omie.webhooks import deliver_due

        self.stdout.write("Omie falso: enviando webhooks.")
        while True:
            try:
                deliver_due()
            except Exception as exc:  # noqa: BLE001 - keep sending; the next tick retries
                self.stderr.write(f"falha no envio de webhooks: {type(exc).__name__}: {exc}")
                from django.db import connection

                connection.close()
            time.sleep(options["interval"])

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.seed import sandbox_seed


class Command(BaseCommand):
    help = "Creates (or refreshes) the demo customers and orders in the fake Bubble and companies in the fake BrasilAPI."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="seed even with SANDBOX off (only the fake tables are written)")

    def handle(self, *args: object, **options: object) -> None:
        if not settings.SANDBOX and not options["force"]:
            raise CommandError("SANDBOX está desligado; use --force para semear mesmo assim.")
        lines = sandbox_seed()
        self.stdout.write(self.style.SUCCESS(f"Sandbox: {len(lines)} registros de demonstração prontos"))
        for line in lines:
            self.stdout.write(f"  {line}")
        self.stdout.write(
            "  Dispare a sincronização com POST /v1/orders/<id do pedido>/sync-omie e simule pagamentos com "
            "`manage.py sandbox_pagarme_send <id do pedido> --type charge.paid`."
        )

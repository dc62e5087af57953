from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.omie.dryrun import dry_run_on, dry_run_waiting_order_ids
from orders.services.dry_run import order_dry_run_discard, order_dry_run_replay


class Command(BaseCommand):
    help = (
        "After an Omie dry run (OMIE_DRY_RUN switched off): re-runs, for real and exactly once, every order "
        "whose Omie writes were only recorded. The sync sweep does the same every minute; this does it now. "
        "--discard ID... closes those orders instead (they become 'Erro de sincronização' and are never sent "
        "unless someone presses 'reprocessar')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--discard", nargs="+", metavar="BUBBLE_ID", help="dry-run orders that must not reach Omie")

    def handle(self, *args: object, discard: list[str] | None = None, **options: object) -> None:
        if discard:
            for bubble_id in discard:
                done = order_dry_run_discard(bubble_id=bubble_id)
                self.stdout.write(f"{bubble_id}: {'descartado' if done else 'nada em ensaio para este pedido'}")
            return
        if dry_run_on():
            waiting = len(dry_run_waiting_order_ids())
            raise CommandError(f"OMIE_DRY_RUN ainda está ligado ({waiting} pedido(s) em ensaio); desligue-o primeiro.")
        count = order_dry_run_replay()
        self.stdout.write(f"{count} pedido(s) reenfileirado(s) para envio real ao Omie.")

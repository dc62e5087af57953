from django.core.management.base import BaseCommand, CommandError

from integrations.omie.dryrun import dry_run_on, dry_run_waiting_order_ids


class Command(BaseCommand):
    help = (
        "After an Omie dry run (OMIE_DRY_RUN switched off): re-runs, for real and exactly once, every order "
        "whose Omie writes were only recorded. The sync sweep does the same every minute; this does it now."
    )

    def handle(self, *args: object, **options: object) -> None:
        from orders.services.dry_run import order_dry_run_replay

        if dry_run_on():
            waiting = len(dry_run_waiting_order_ids())
            raise CommandError(f"OMIE_DRY_RUN ainda está ligado ({waiting} pedido(s) em ensaio); desligue-o primeiro.")
        count = order_dry_run_replay()
        self.stdout.write(f"{count} pedido(s) reenfileirado(s) para envio real ao Omie.")

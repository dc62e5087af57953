import sys

from django.core.management.base import BaseCommand, CommandParser

from integrations.checks.service import SYSTEMS, integrations_check


class Command(BaseCommand):
    help = (
        "Verifies every integration before go-live (Omie, Bubble, BrasilAPI, Pagar.me, Sentry, Flower, database, "
        "Redis, broker, beat). Exit code 1 when any error, so it can gate a deploy. Spends at most one Omie call "
        "(and calls Omie at most once a minute)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument("--bubble-order", default="", metavar="ID",
                            help="a real Bubble order id: check its field keys and its customer's")
        parser.add_argument("--bubble-patch", action="store_true",
                            help="with --bubble-order: write the same value back to one field (proves 'Modify via API')")
        parser.add_argument("--sentry-test-event", action="store_true", help="send one test event to Sentry")
        parser.add_argument("--only", action="append", choices=SYSTEMS, help="check only this system (repeatable)")

    def handle(self, *args: object, **options: object) -> None:
        report = integrations_check(
            bubble_order_id=str(options["bubble_order"] or ""),
            bubble_patch=bool(options["bubble_patch"]),
            sentry_test_event=bool(options["sentry_test_event"]),
            only=tuple(options["only"]) if options["only"] else None,  # type: ignore[arg-type]
        )
        self.stdout.write(report.as_json() if options["json"] else report.as_text())
        if report.exit_code:
            sys.exit(report.exit_code)

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from integrations.omie.calls import ALL_CALLS
from integrations.omie.selectors import throttle_state
from integrations.omie.services import omie_method_pause, omie_method_resume


class Command(BaseCommand):
    help = "Shows the central Omie throttle (pauses, bans, error budget, leases) and pauses or resumes a method."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("status", help="one line per Omie method")
        pause = sub.add_parser("pause", help="stop every worker from calling a method")
        pause.add_argument("call")
        pause.add_argument("--seconds", type=float, required=True)
        resume = sub.add_parser("resume", help="lift a pause/ban and clear the method's error window")
        resume.add_argument("call")

    def handle(self, *args: object, verb: str, **options: object) -> None:
        if verb in {"pause", "resume"} and options["call"] not in ALL_CALLS:
            raise CommandError(f"Unknown Omie method {options['call']!r}; one of: {', '.join(sorted(ALL_CALLS))}")
        if verb == "pause":
            until = omie_method_pause(call=str(options["call"]), seconds=float(options["seconds"]))  # type: ignore[arg-type]
            self.stdout.write(f"{options['call']} paused until {timezone.localtime(until):%Y-%m-%d %H:%M:%S}")
            return
        if verb == "resume":
            omie_method_resume(call=str(options["call"]))
            self.stdout.write(f"{options['call']} resumed")
            return
        for m in throttle_state()["methods"]:
            paused = f"PAUSED until {timezone.localtime(m['paused_until']):%H:%M:%S} ({m['pause_label']})" if m["paused_until"] else "free"
            self.stdout.write(
                f"{m['call']:<14} {paused:<50} errors {m['errors_in_window']}/{m['error_budget']}  "
                f"leases {m['leases_held']}/{m['concurrency']}"
            )

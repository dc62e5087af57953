from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.bubble_guide import SECTIONS, render_into


class Command(BaseCommand):
    help = (
        "Prints the generated parts of the Bubble integrator's guide: the option sets with their exact labels "
        "(from orders/statuses), the fields per type, and one API Connector call per endpoint (from the OpenAPI "
        "schema). --write docs/bubble.md refreshes them in the file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("section", nargs="?", choices=sorted(SECTIONS), help="one section only (default: all)")
        parser.add_argument("--write", metavar="FILE", help="replace the generated blocks of this Markdown file")

    def handle(self, *args: object, section: str | None = None, write: str | None = None, **options: object) -> None:
        names = [section] if section else list(SECTIONS)
        contents = {name: SECTIONS[name]() for name in names}
        if write:
            path = Path(write)
            try:
                path.write_text(render_into(path.read_text(encoding="utf-8"), contents), encoding="utf-8")
            except (OSError, ValueError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{path}: {', '.join(names)} atualizado(s)")
            return
        for name in names:
            self.stdout.write(contents[name])

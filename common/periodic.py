"""Every periodic task of the project, declared in code (HackSoft's setup_periodic_tasks rule).

Apps add their entries to SCHEDULE; ``manage.py setup_periodic_tasks`` writes them to
django-celery-beat's tables (visible and editable in the admin). Entries are upserted by name, so
running it on every deploy keeps the admin's enabled/disabled switches.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    every_seconds: int | None = None
    # crontab fields, in America/Sao_Paulo
    crontab: dict[str, str] | None = None
    description: str = ""


SCHEDULE: list[Periodic] = [
    Periodic(
        name="Batimento do beat",
        task="common.tasks.beat_heartbeat",
        every_seconds=60,
        description="Prova de vida do beat; /health/ready falha quando fica velho.",
    ),
]


def register(*entries: Periodic) -> None:
    names = {e.name for e in SCHEDULE}
    for entry in entries:
        if entry.name not in names:
            SCHEDULE.append(entry)

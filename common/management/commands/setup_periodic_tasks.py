from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks

from common.periodic import SCHEDULE


class Command(BaseCommand):
    help = "Creates or updates every periodic task the project declares (common.periodic.SCHEDULE)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        # Apps register their entries when their periodic module is imported.
        for config in apps.get_app_configs():
            try:
                __import__(f"{config.name}.periodic")
            except ModuleNotFoundError:
                continue
        for entry in SCHEDULE:
            defaults: dict[str, object] = {"task": entry.task, "description": entry.description}
            if entry.every_seconds:
                interval, _ = IntervalSchedule.objects.get_or_create(every=entry.every_seconds, period=IntervalSchedule.SECONDS)
                defaults.update(interval=interval, crontab=None)
            else:
                assert entry.crontab
                # https://crontab.guru — fields as in the entry, timezone America/Sao_Paulo.
                crontab, _ = CrontabSchedule.objects.get_or_create(timezone="America/Sao_Paulo", **entry.crontab)
                defaults.update(crontab=crontab, interval=None)
            task, created = PeriodicTask.objects.update_or_create(name=entry.name, defaults=defaults)
            self.stdout.write(f"{'created' if created else 'updated'}: {task.name} -> {task.task}")
        PeriodicTasks.update_changed()

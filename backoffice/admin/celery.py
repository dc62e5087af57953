"""The Celery admins (django-celery-beat's periodic tasks, django-celery-results' task results) as ops
read them: the task's purpose in Portuguese instead of its dotted path, states in Portuguese. The
packages' own admins are replaced, keeping everything else they do (the forms, the schedules, the
"run selected tasks" actions)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask
from django_celery_results import admin as results_admin
from django_celery_results.models import TaskResult

from backoffice.action_labels import TASK_LABELS, TASK_STATES, task_label
from backoffice.badges import badge


class TaskFilter(admin.SimpleListFilter):
    """By what the task does (the Portuguese label), not by its module path."""

    title = "tarefa"
    parameter_name = "tarefa"
    field = "task_name"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return sorted(((name, label.capitalize()) for name, label in TASK_LABELS.items()), key=lambda item: item[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class PeriodicTaskFilter(TaskFilter):
    field = "task"


class StateFilter(admin.SimpleListFilter):
    title = "situação"
    parameter_name = "situacao"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(state, label.capitalize()) for state, label in TASK_STATES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(status=self.value()) if self.value() else queryset


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class OpsPeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    list_display = ("name", "what", "enabled", "scheduler", "last_run_at", "total_run_count")
    list_filter = ["enabled", "one_off", PeriodicTaskFilter, "last_run_at"]

    @admin.display(description="o que faz", ordering="task")
    def what(self, obj: PeriodicTask) -> str:
        return task_label(obj.task).capitalize()


admin.site.unregister(TaskResult)


@admin.register(TaskResult)
class OpsTaskResultAdmin(results_admin.TaskResultAdmin):
    list_display = ("date_done", "what", "state", "periodic_task_name", "worker", "task_id")
    list_filter = (StateFilter, TaskFilter, "date_done", "worker")

    @admin.display(description="tarefa", ordering="task_name")
    def what(self, obj: TaskResult) -> str:
        return task_label(obj.task_name).capitalize()

    @admin.display(description="situação", ordering="status")
    def state(self, obj: TaskResult) -> SafeString:
        colour = {"SUCCESS": "green", "FAILURE": "red", "RETRY": "outline"}.get(obj.status, "gray")
        return badge(obj.status, TASK_STATES.get(obj.status, obj.status), colour=colour) if obj.status else format_html("—")

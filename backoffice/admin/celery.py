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
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from django_celery_results import admin as results_admin
from django_celery_results.models import TaskResult

from backoffice.action_labels import TASK_LABELS, TASK_STATES, sentence, task_label
from backoffice.badges import badge


class TaskFilter(admin.SimpleListFilter):
    """By what the task does (the Portuguese label), not by its module path."""

    title = "tarefa"
    parameter_name = "tarefa"
    field = "task_name"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return sorted(((name, sentence(label)) for name, label in TASK_LABELS.items()), key=lambda item: item[1])

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


_WEEKDAYS = {"0": "domingo", "1": "segunda", "2": "terça", "3": "quarta", "4": "quinta", "5": "sexta", "6": "sábado", "7": "domingo"}


def crontab_described(crontab: CrontabSchedule | None) -> str:
    """A crontab as ops say it ("todo dia às 04:15", "dia 25 de cada mês às 07:00"); anything this
    does not know how to say is shown as its five fields, named in Portuguese."""
    if crontab is None:
        return "—"
    minute, hour, dom, month, dow = (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year,
                                     crontab.day_of_week)
    if minute.isdigit() and hour.isdigit() and month == "*":
        at = f"às {int(hour):02d}:{int(minute):02d}"
        if dom == "*" and dow == "*":
            return f"todo dia {at}"
        if dom.isdigit() and dow == "*":
            return f"dia {int(dom)} de cada mês {at}"
        if dom == "*" and all(d in _WEEKDAYS for d in dow.split(",")):
            return f"toda {', '.join(_WEEKDAYS[d] for d in dow.split(','))} {at}"
    return f"minuto {minute}, hora {hour}, dia do mês {dom}, mês {month}, dia da semana {dow} (formato cron)"


def schedule_described(task: PeriodicTask) -> str:
    if task.interval_id:
        return f"a cada {_interval(task.interval)}"
    if task.crontab_id:
        return f"{crontab_described(task.crontab)} (horário de Brasília)" if str(task.crontab.timezone) == "America/Sao_Paulo" \
            else f"{crontab_described(task.crontab)} ({task.crontab.timezone})"
    if task.clocked_id:
        return "uma vez, na data marcada"
    if task.solar_id:
        return "pelo sol (evento solar)"
    return "sem agendamento"


def _interval(interval: IntervalSchedule) -> str:
    names = {"days": ("dia", "dias"), "hours": ("hora", "horas"), "minutes": ("minuto", "minutos"),
             "seconds": ("segundo", "segundos"), "microseconds": ("microssegundo", "microssegundos")}
    one, many = names.get(interval.period, (interval.period, interval.period))
    if interval.period == "seconds" and interval.every % 60 == 0:
        minutes = interval.every // 60
        return "1 minuto" if minutes == 1 else f"{minutes} minutos"
    return f"1 {one}" if interval.every == 1 else f"{interval.every} {many}"


class OpsPeriodicTaskForm(beat_admin.PeriodicTaskForm):
    """The registered tasks listed by what they do, not by their dotted path; schedules described."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        registered = self.fields["regtask"].widget.choices
        self.fields["regtask"].widget._choices = [("", ""), *sorted(
            ((name, sentence(task_label(name)) if name in TASK_LABELS else name) for name, _label in registered if name),
            key=lambda item: item[1])]
        self.fields["regtask"].label = "Tarefa"
        self.fields["task"].label = "Tarefa (nome técnico, se não estiver na lista)"
        if "crontab" in self.fields:
            self.fields["crontab"].label_from_instance = crontab_described


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class OpsPeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    form = OpsPeriodicTaskForm
    list_display = ("name", "what", "enabled", "when", "last_run_at", "total_run_count")
    list_filter = ["enabled", "one_off", PeriodicTaskFilter, "last_run_at"]

    @admin.display(description="o que faz", ordering="task")
    def what(self, obj: PeriodicTask) -> str:
        return sentence(task_label(obj.task))

    @admin.display(description="quando roda")
    def when(self, obj: PeriodicTask) -> str:
        return schedule_described(obj)

    def crontab_translation(self, obj: PeriodicTask) -> str:
        return crontab_described(obj.crontab)

    crontab_translation.short_description = "agendamento por extenso"  # type: ignore[attr-defined]

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict | None = None) -> object:
        extra_context = {**(extra_context or {}),
                         "readable_crontabs": {c.id: crontab_described(c) for c in CrontabSchedule.objects.all()}}
        return admin.ModelAdmin.changeform_view(self, request, object_id, form_url, extra_context)


class OpsPeriodicTaskInline(beat_admin.PeriodicTaskInline):
    """"Tarefas que usam este agendamento", by what they do (django-celery-beat labels it "Task Name")."""

    fields = ("name", "what")
    readonly_fields = fields
    verbose_name = "tarefa que usa este agendamento"
    verbose_name_plural = "tarefas que usam este agendamento"

    @admin.display(description="o que faz")
    def what(self, obj: PeriodicTask) -> str:
        return sentence(task_label(obj.task))


for _model, _base in ((ClockedSchedule, beat_admin.ClockedScheduleAdmin), (IntervalSchedule, beat_admin.IntervalScheduleAdmin),
                      (SolarSchedule, beat_admin.SolarScheduleAdmin)):
    admin.site.unregister(_model)
    admin.site.register(_model, type(f"Ops{_model.__name__}Admin", (_base,), {"inlines": [OpsPeriodicTaskInline]}))

# Titles, breadcrumbs and the periodic task's own name ("Conciliação: 30 5 * * * (m/h/dM/MY/d) America/Sao_Paulo")
# use the crontab's str: said in Portuguese instead (a str is in no migration).
CrontabSchedule.__str__ = lambda self: f"{crontab_described(self)} ({self.timezone})"  # type: ignore[method-assign]

admin.site.unregister(CrontabSchedule)


@admin.register(CrontabSchedule)
class OpsCrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin):
    inlines = [OpsPeriodicTaskInline]
    list_display = ("described", "timezone")
    fields = ("described", "minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone")
    readonly_fields = ("described",)

    @admin.display(description="quando roda")
    def described(self, obj: CrontabSchedule) -> str:
        return crontab_described(obj)


admin.site.unregister(TaskResult)


@admin.register(TaskResult)
class OpsTaskResultAdmin(results_admin.TaskResultAdmin):
    list_display = ("date_done", "what", "state", "periodic_task_name", "worker", "task_id")
    list_filter = (StateFilter, TaskFilter, "date_done", "worker")

    def get_fieldsets(self, request: HttpRequest, obj: TaskResult | None = None) -> list:
        """The package's fieldsets with the task's dotted path replaced by what it does."""
        return [(title, {**options, "fields": tuple("what" if f == "task_name" else f for f in options["fields"])})
                for title, options in super().get_fieldsets(request, obj)]

    def get_readonly_fields(self, request: HttpRequest, obj: TaskResult | None = None) -> list:
        return [*super().get_readonly_fields(request, obj), "what"]

    @admin.display(description="tarefa", ordering="task_name")
    def what(self, obj: TaskResult) -> str:
        return sentence(task_label(obj.task_name))

    @admin.display(description="situação", ordering="status")
    def state(self, obj: TaskResult) -> SafeString:
        colour = {"SUCCESS": "green", "FAILURE": "red", "RETRY": "outline"}.get(obj.status, "gray")
        return badge(obj.status, TASK_STATES.get(obj.status, obj.status), colour=colour) if obj.status else format_html("—")

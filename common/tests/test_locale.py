"""The project's pt_BR catalog (locale/): the Celery admins in Portuguese, gender-neutral save
messages, months in lower case; the committed django.mo matches django.po."""

from __future__ import annotations

import gettext
import re
from datetime import date
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import formats, translation

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "pt_BR" / "LC_MESSAGES"


def _po_entries() -> dict[tuple[str | None, str], str]:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = {}
    pattern = r'(?:msgctxt "((?:[^"\\]|\\.)*)"\n)?msgid "((?:[^"\\]|\\.)*)"\nmsgstr "((?:[^"\\]|\\.)*)"'
    for ctx, msgid, msgstr in re.findall(pattern, text):
        if msgid:
            unescape = lambda s: s.replace('\\"', '"').replace("\\\\", "\\")  # noqa: E731
            entries[(unescape(ctx) if ctx else None, unescape(msgid))] = unescape(msgstr)
    return entries


def test_the_committed_mo_has_every_translation_of_the_po():
    with open(LOCALE / "django.mo", "rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    entries = _po_entries()
    assert len(entries) > 150
    for (ctx, msgid), msgstr in entries.items():
        got = catalog.pgettext(ctx, msgid) if ctx else catalog.gettext(msgid)
        assert got == msgstr, (ctx, msgid)


@pytest.mark.parametrize(("app_label", "name"), [("django_celery_beat", "Tarefas agendadas"),
                                                 ("django_celery_results", "Resultados das tarefas")])
def test_the_celery_admins_have_portuguese_names(app_label, name):
    with translation.override("pt-br"):
        assert str(apps.get_app_config(app_label).verbose_name) == name


def test_model_and_field_names_of_the_celery_admins_are_portuguese():
    from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
    from django_celery_results.models import TaskResult

    with translation.override("pt-br"):
        names = [str(m._meta.verbose_name_plural) for m in (PeriodicTask, ClockedSchedule, CrontabSchedule, IntervalSchedule,
                                                             SolarSchedule)]
        assert names == ["tarefas periódicas", "agendamento em data e hora", "agendamentos cron", "intervalos", "eventos solares"]
        assert str(TaskResult._meta.get_field("status").verbose_name) == "Situação da tarefa"


def test_months_are_lower_case():
    with translation.override("pt-br"):
        assert formats.date_format(date(2026, 11, 29), "DATE_FORMAT") == "29 de novembro de 2026"

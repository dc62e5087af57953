"""Every Celery task has a Portuguese label (backoffice/action_labels.py TASK_LABELS): the timeline and the
task admins never show ops a dotted path or "tarefa automática" for one of ours (issue #26)."""

from __future__ import annotations

from backoffice.action_labels import TASK_LABELS, task_label
from config.celery import app


def _registered() -> set[str]:
    app.loader.import_default_modules()  # what a worker does at start-up: autodiscovery of every app's tasks
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_registered_task_has_a_label():
    registered = _registered()
    assert len(registered) > 20  # autodiscovery ran
    assert sorted(registered - TASK_LABELS.keys()) == []


def test_every_label_names_a_registered_task():
    """A renamed or removed task leaves no stale label behind (Celery's own beat cleanup aside)."""
    registered = _registered()
    stale = [name for name in TASK_LABELS if name not in registered and not name.startswith("celery.")]
    assert stale == []


def test_labels_are_sentences_for_ops_not_code():
    for name, label in TASK_LABELS.items():
        assert label.strip() and label == label.strip(), name
        assert "." not in label.split()[0] and "_" not in label, (name, label)
        assert label[0].islower(), (name, label)  # sentence() capitalises where a sentence starts
        assert task_label(name) == label
    assert task_label("some.unknown.task") == "tarefa automática"

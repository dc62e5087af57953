"""Users and groups with the permission list in Portuguese.

Django names its default permissions in English ("Can add order", "Can change periodic task"…), 216
of them on the user and group pages. The names stay as they are in the database (Django recreates
them on every migrate); only their labels here are built in Portuguese: "Pedidos › pedido — pode
adicionar". Custom permissions (ours, already in Portuguese) keep their own name.
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.db.models import ManyToManyField
from django.forms import ModelMultipleChoiceField
from django.http import HttpRequest

DEFAULT_ACTIONS = {"add": "pode adicionar", "change": "pode alterar", "delete": "pode excluir", "view": "pode ver"}

# Third-party apps and models whose names Django's pt_BR and our locale do not cover (django-otp,
# the Celery admins' internals, the JWT blacklist): what a person reads instead.
APP_NAMES = {
    "otp_totp": "Verificação em duas etapas", "axes": "Bloqueios de login", "token_blacklist": "Tokens da API",
    "django_celery_beat": "Tarefas agendadas", "django_celery_results": "Resultados das tarefas",
}
MODEL_NAMES = {
    ("otp_totp", "totpdevice"): "autenticador (2FA)",
    ("token_blacklist", "outstandingtoken"): "token emitido", ("token_blacklist", "blacklistedtoken"): "token revogado",
    ("django_celery_beat", "periodictasks"): "controle de alterações das tarefas",
    ("django_celery_results", "chordcounter"): "contador de grupos (chord)",
}


def permission_label(permission: Permission) -> str:
    """ "Pedidos › pedido — pode adicionar" for a default permission; the custom ones keep their name."""
    app_label, model = permission.content_type.app_label, permission.content_type.model
    try:
        app_name = str(apps.get_app_config(app_label).verbose_name)
    except LookupError:
        app_name = app_label
    app_name = APP_NAMES.get(app_label, app_name)
    model_class = permission.content_type.model_class()
    model_name = MODEL_NAMES.get((app_label, model)) or (str(model_class._meta.verbose_name) if model_class else model)
    action = permission.codename.partition("_")[0]
    if action in DEFAULT_ACTIONS and permission.name.startswith("Can "):
        return f"{app_name} › {model_name} — {DEFAULT_ACTIONS[action]}"
    return f"{app_name} › {model_name} — {permission.name}"


class _PortuguesePermissions:
    def formfield_for_manytomany(self, db_field: ManyToManyField, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if isinstance(field, ModelMultipleChoiceField) and field.queryset.model is Permission:
            field.queryset = field.queryset.select_related("content_type")
            field.label_from_instance = permission_label
        return field


# App headings that are not translatable strings in their packages (an app's verbose_name is not in
# any migration, so renaming it here changes nothing but the label).
for _label, _name in (("axes", "Bloqueios de login"), ("otp_totp", "Verificação em duas etapas (TOTP)")):
    if apps.is_installed(_label) or _label in apps.app_configs:
        apps.get_app_config(_label).verbose_name = _name


def _axes_str(prefix: str) -> object:
    def text(obj: object) -> str:
        when = getattr(obj, "attempt_time", None)
        return f"{prefix} · {getattr(obj, 'username', '') or '—'} · {when:%d/%m/%Y %H:%M}" if when else prefix
    return text


# django-axes' rows read "Access Log for admin @ 2026-…" as titles and breadcrumbs (not translatable strings).
AccessLog.__str__ = _axes_str("acesso")  # type: ignore[method-assign]
AccessAttempt.__str__ = _axes_str("tentativa de login")  # type: ignore[method-assign]
AccessFailureLog.__str__ = _axes_str("falha de login")  # type: ignore[method-assign]

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class OpsUserAdmin(_PortuguesePermissions, UserAdmin):
    pass


@admin.register(Group)
class OpsGroupAdmin(_PortuguesePermissions, GroupAdmin):
    pass

"""The admin site: Django's, plus a TOTP second factor (django-otp) for the accounts that can do the
most harm.

With ADMIN_REQUIRE_2FA (default true in production), superusers and members of ``Financeiro`` must
enter the 6-digit code of their authenticator app at login, and a session that was not verified
with a code has no admin access. Other staff (e.g. ``Ops``) may enrol and use a code too; it is not
required of them. Enrolment: ``manage.py totp_enrol <username>`` (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django_otp import match_token, user_has_device

SECOND_FACTOR_GROUPS = ("Financeiro",)


def second_factor_required(user: Any) -> bool:
    if not settings.ADMIN_REQUIRE_2FA or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.groups.filter(name__in=SECOND_FACTOR_GROUPS).exists())


class OTPAdminAuthenticationForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Código de verificação (2FA)", required=False, max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="Os 6 dígitos do aplicativo autenticador (obrigatório para superusuários e Financeiro).",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # username + password (django-axes counts failures here)
        user = self.get_user()
        token = (cleaned.get("otp_token") or "").strip()
        if user is None:
            return cleaned
        if token or second_factor_required(user):
            if not user_has_device(user):
                raise forms.ValidationError(
                    "Este usuário precisa de verificação em duas etapas e ainda não tem um autenticador cadastrado: "
                    "peça a um superusuário (manage.py totp_enrol).", code="otp_not_enrolled",
                )
            device = match_token(user, token) if token else None
            if device is None:
                raise forms.ValidationError("Código de verificação inválido ou ausente.", code="otp_invalid")
            user.otp_device = device  # django_otp's user_logged_in handler marks the session verified
        return cleaned


class BluAdminSite(admin.AdminSite):
    login_form = OTPAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        return not second_factor_required(user) or bool(getattr(user, "is_verified", lambda: False)())

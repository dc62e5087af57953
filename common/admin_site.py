"""The admin site: Django's, plus a TOTP second factor (django-otp) for every staff user.

With ADMIN_REQUIRE_2FA (default true in production, off in development and the sandbox), every staff
user types the 6-digit code of their authenticator app (or a recovery code) with the password, and
a session that was not verified with a code has no admin access. A staff user without an
authenticator is taken, after the password, to the enrolment page (common/twofa/views.py) and is
logged in only after confirming a code there. Ops reset a lost phone with ``manage.py twofa_reset``.

The login answers one message for every failure — wrong password, wrong or missing code, unknown
user — so the page never tells an attacker that the password was right; and a wrong or missing code
counts as a failed login for django-axes' lockout, like a wrong password.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp import match_token, user_has_device

from common.twofa.models import RecoveryCodeDevice
from common.twofa.services import twofa_enrolled, twofa_required
from common.twofa.views import enrol_view, enrolment_pending_start

LOGIN_FAILED = "Usuário, senha ou código de verificação incorretos. Confira e tente de novo."
CODE_HELP_REQUIRED = (
    "Os 6 dígitos do aplicativo autenticador, ou um código de recuperação. Obrigatório para toda a equipe; "
    "no primeiro acesso deixe em branco: o cadastro do celular vem logo depois da senha."
)
CODE_HELP_OFF = "Desligado neste ambiente: deixe em branco (só confere o código de quem já cadastrou um autenticador)."
TWOFA_OFF_NOTICE = (
    "Verificação em duas etapas desligada neste ambiente (desenvolvimento/sandbox): usuário e senha bastam. "
    "Em produção, toda a equipe entra com a senha e o código do celular."
)


def second_factor_required(user: Any) -> bool:
    return twofa_required(user)


class OTPAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {**AdminAuthenticationForm.error_messages, "invalid_login": LOGIN_FAILED, "inactive": LOGIN_FAILED}
    otp_token = forms.CharField(
        label="Código de verificação (2FA)", required=False, max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["otp_token"].help_text = CODE_HELP_REQUIRED if settings.ADMIN_REQUIRE_2FA else CODE_HELP_OFF
        # Set by clean(): the password was right, the user must enrol an authenticator before logging in.
        self.enrolment_needed = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # username + password (django-axes counts failures here)
        user = self.get_user()
        if user is None:
            return cleaned

        token = (cleaned.get("otp_token") or "").strip()
        if second_factor_required(user):
            if not twofa_enrolled(user):
                self.enrolment_needed = True  # the code field is ignored: there is nothing to check it against
                return cleaned
        elif not (token and user_has_device(user)):
            return cleaned  # 2FA off: a code is checked only when one is typed by an enrolled user
        device = match_token(user, token) if token else None
        if device is None:
            self._code_failed()
        user.otp_device = device  # django_otp's user_logged_in handler marks the session verified
        return cleaned

    def _code_failed(self) -> None:
        """A wrong or missing code is a failed login: the same message, and one more failure for axes."""
        user_login_failed.send(sender=type(self), credentials={"username": self.cleaned_data.get("username")}, request=self.request)
        self.user_cache = None
        raise forms.ValidationError(LOGIN_FAILED, code="invalid_login")


class TwoFactorLoginView(LoginView):
    def form_valid(self, form: OTPAdminAuthenticationForm) -> HttpResponse:  # type: ignore[override]

        user = form.get_user()
        if form.enrolment_needed:
            enrolment_pending_start(self.request, user=user, next_url=self.get_success_url())
            return HttpResponseRedirect(reverse("admin:twofa_enrol", current_app=self.request.current_app))
        response = super().form_valid(form)
        device = getattr(user, "otp_device", None)
        if isinstance(device, RecoveryCodeDevice):
            messages.warning(self.request, (
                f"Você entrou com um código de recuperação; restam {device.remaining()}. Se perdeu o celular, "
                "peça a um administrador para refazer o cadastro da verificação em duas etapas."
            ))
        return response


class BluAdminSite(admin.AdminSite):
    login_form = OTPAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        return not second_factor_required(user) or bool(getattr(user, "is_verified", lambda: False)())

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [path("2fa/cadastrar/", self.twofa_enrol, name="twofa_enrol"), *super().get_urls()]

    @method_decorator(never_cache)
    def twofa_enrol(self, request: HttpRequest) -> HttpResponse:
        request.current_app = self.name
        return enrol_view(request, site=self)

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Django's AdminSite.login with TwoFactorLoginView (which sends a new user to enrolment) and the
        2FA notice for environments where it is off."""
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
            "twofa_required": settings.ADMIN_REQUIRE_2FA,
            "twofa_off_notice": "" if settings.ADMIN_REQUIRE_2FA else TWOFA_OFF_NOTICE,
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return TwoFactorLoginView.as_view(
            extra_context=context,
            authentication_form=self.login_form,
            template_name=self.login_template or "admin/login.html",
        )(request)

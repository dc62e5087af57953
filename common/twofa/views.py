"""The enrolment page a staff user without an authenticator reaches after the password.

Between the password and the code the session is NOT logged in: it only holds the pending user's id
(for ENROLMENT_WINDOW_SECONDS), so nothing in the site treats a password-only session as a user.
The person scans the QR code, types the code their app shows, and only then is logged in, verified
by that device, and shown their recovery codes, once.
"""

from __future__ import annotations

import time
from base64 import b32encode
from typing import Any

import segno
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe

from common.twofa.services import totp_enrolment_confirm, totp_enrolment_start, twofa_enrolled

PENDING = "twofa_pending"
ENROLMENT_WINDOW_SECONDS = 10 * 60
# The backend that checked the password (axes's own backend never returns a user).
LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


class EnrolmentForm(forms.Form):
    otp_token = forms.CharField(
        label="Código mostrado pelo aplicativo", max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def enrolment_pending_start(request: HttpRequest, *, user: Any, next_url: str) -> None:
    """Remembers who proved the password; a new session key, so a planted session id gains nothing."""
    request.session.cycle_key()
    request.session[PENDING] = {"user": user.pk, "since": time.time(), "next": next_url, "device": None}


def _pending(request: HttpRequest) -> tuple[Any, dict[str, Any]] | None:
    data = request.session.get(PENDING)
    if not isinstance(data, dict) or time.time() - float(data.get("since", 0)) > ENROLMENT_WINDOW_SECONDS:
        return None
    user = get_user_model().objects.filter(pk=data.get("user"), is_active=True, is_staff=True).first()
    return (user, data) if user is not None else None


def _qr_svg(uri: str) -> str:
    # Inline SVG (no image request, no inline style: the CSP stays strict).
    return mark_safe(segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff"))  # noqa: S308 - segno's own markup


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def enrol_view(request: HttpRequest, *, site: Any) -> HttpResponse:
    """GET: the QR code and the secret; POST: the code, then the recovery codes (shown once)."""
    login_url = reverse("admin:login")
    pending = _pending(request)
    if pending is None:
        request.session.pop(PENDING, None)
        return HttpResponseRedirect(login_url)
    user, data = pending
    if twofa_enrolled(user):  # enrolled meanwhile (another tab): log in with a code like everyone else
        request.session.pop(PENDING, None)
        return HttpResponseRedirect(login_url)
    device = totp_enrolment_start(user=user, device_id=data.get("device"))
    if data.get("device") != device.pk:
        data["device"] = device.pk
        request.session[PENDING] = data
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = totp_enrolment_confirm(device=device, code=form.cleaned_data["otp_token"])
        if codes is not None:
            next_url = str(data.get("next") or "")
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
                next_url = reverse("admin:index")
            device.refresh_from_db()
            user.otp_device = device  # django-otp's login handler marks the session verified by it
            request.session.pop(PENDING, None)
            auth_login(request, user, backend=LOGIN_BACKEND)
            return render(request, "twofa/recovery_codes.html", {
                **site.each_context(request), "title": "Guarde seus códigos de recuperação", "codes": codes, "next_url": next_url,
            })
        form.add_error("otp_token", "Código incorreto. Confira o horário do celular e digite o código que aparece agora.")
    return render(request, "twofa/enrol.html", {
        **site.each_context(request),
        "title": "Cadastrar a verificação em duas etapas",
        "form": form,
        "person": user.get_username(),
        "qr_svg": _qr_svg(device.config_url),
        "secret": _grouped(b32encode(device.bin_key).decode().rstrip("=")),
        "otpauth_uri": device.config_url,
    })

"""Who has enrolled an authenticator (2FA), in Portuguese. django-otp's own TOTP admin (English, with
the secret key and raw drift/throttling fields) is replaced: ops only need to see who enrolled and
when it was last used; enrolment happens at the login page, a reset with ``manage.py twofa_reset``."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.twofa.models import Authenticator

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ("user", "name_shown", "confirmed_shown", "created_at_shown", "last_used_shown")
    list_filter = ("confirmed",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    fields = ("user", "name_shown", "confirmed_shown", "created_at_shown", "last_used_shown", "failures_shown")
    readonly_fields = fields

    @admin.display(description="nome do aparelho", ordering="name")
    def name_shown(self, obj: Authenticator) -> str:
        return obj.name or "—"

    @admin.display(description="cadastro confirmado", boolean=True, ordering="confirmed")
    def confirmed_shown(self, obj: Authenticator) -> bool:
        return obj.confirmed

    @admin.display(description="cadastrado em", ordering="created_at")
    def created_at_shown(self, obj: Authenticator) -> object:
        return obj.created_at or "—"

    @admin.display(description="último uso", ordering="last_used_at")
    def last_used_shown(self, obj: Authenticator) -> object:
        return obj.last_used_at or "nunca"

    @admin.display(description="códigos errados seguidos")
    def failures_shown(self, obj: Authenticator) -> int:
        return obj.throttling_failure_count

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # enrolment is the person's own, at the login page (or manage.py totp_enrol)

    def has_change_permission(self, request: HttpRequest, obj: Authenticator | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Authenticator | None = None) -> bool:
        return False  # `manage.py twofa_reset <user>` also removes the recovery codes (README, "A lost phone")

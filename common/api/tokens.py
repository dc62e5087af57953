from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from common.api.auth import SERVICE_CLAIM, service_group_add
from common.api.models import ServiceToken


def service_token_issue(*, user: AbstractBaseUser, days: int, label: str = "") -> tuple[str, ServiceToken]:
    """Returns the encoded token (shown once, never stored) and its revocable row.

    The user joins the ``Integração Bubble`` group: only its members may call the ops endpoints.
    """
    service_group_add(user)
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(days=days))
    token[SERVICE_CLAIM] = True
    row = ServiceToken.objects.create(
        jti=token["jti"],
        user=user,
        label=label,
        expires_at=timezone.now() + timedelta(days=days),
    )
    return str(token), row


def service_token_revoke(*, token: ServiceToken, by: str) -> bool:
    """Revokes at once; returns False when it was already revoked."""
    updated = ServiceToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=by)
    return updated == 1

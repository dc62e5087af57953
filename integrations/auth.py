"""API authentication: simplejwt, plus immediate revocation of long-lived service tokens."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

SERVICE_CLAIM = "svc"


class ServiceAwareJWTAuthentication(JWTAuthentication):
    """A token carrying the ``svc`` claim is valid only while its ServiceToken row is active.

    The row is read on every request (a revoked token is refused on the next one) together with its
    user, in one query: Bubble's every call carries a service token, and simplejwt would read the user
    again in a second one. DRF makes one instance of this class per request, so the user found with
    the row is kept on the instance between ``get_validated_token`` and ``get_user``.
    """

    _service_user: Any = None

    def get_validated_token(self, raw_token: bytes) -> Any:
        token = super().get_validated_token(raw_token)
        self._service_user = None
        if token.get(SERVICE_CLAIM):
            from integrations.models import ServiceToken

            row = ServiceToken.objects.select_related("user").filter(jti=token.get("jti")).first()
            if row is None or not row.is_active or str(row.user_id) != str(token.get(api_settings.USER_ID_CLAIM)):
                raise InvalidToken({"detail": "Token de serviço revogado ou desconhecido.", "code": "token_revoked"})
            self._service_user = row.user
        return token

    def get_user(self, validated_token: Any) -> Any:
        user = self._service_user
        # The same checks as simplejwt's get_user; the password-change check (off here) needs its own path.
        if user is None or api_settings.CHECK_REVOKE_TOKEN or api_settings.USER_ID_FIELD != "id":
            return super().get_user(validated_token)
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'

"""API authentication: simplejwt, plus immediate revocation of long-lived service tokens."""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

SERVICE_CLAIM = "svc"


class ServiceAwareJWTAuthentication(JWTAuthentication):
    """A token carrying the ``svc`` claim is valid only while its ServiceToken row is active."""

    def get_validated_token(self, raw_token: bytes) -> Any:
        token = super().get_validated_token(raw_token)
        if token.get(SERVICE_CLAIM):
            from integrations.models import ServiceToken

            jti = token.get("jti")
            row = ServiceToken.objects.filter(jti=jti).only("revoked_at", "expires_at").first()
            if row is None or not row.is_active:
                raise InvalidToken({"detail": "Token de serviço revogado ou desconhecido.", "code": "token_revoked"})
        return token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'

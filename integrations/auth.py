"""API authentication: simplejwt, plus immediate revocation of long-lived service tokens."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from common.principal import SERVICE_CLAIM
from integrations.models import ServiceToken

# Only members of this group may call the API's ops endpoints (Bubble's service account); staff act in the admin.
SERVICE_GROUP = "Integração Bubble"


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

            row = ServiceToken.objects.select_related("user").filter(jti=token.get("jti")).first()
            if row is None or not row.is_active or str(row.user_id) != str(token.get(api_settings.USER_ID_CLAIM)):
                raise InvalidToken({"detail": "Token de serviço revogado ou desconhecido.", "code": "token_revoked"})
            self._service_user = row.user
        return token

    def get_user(self, validated_token: Any) -> Any:
        user = self._service_user
        # The same checks as simplejwt's get_user, on the user read with the service token's row.
        if user is None or api_settings.USER_ID_FIELD != "id":
            return super().get_user(validated_token)
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and not password_unchanged(validated_token, user):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


def password_unchanged(token: Any, user: Any) -> bool:
    return token.get(api_settings.REVOKE_TOKEN_CLAIM) == get_md5_hash_password(user.password)


class RevocationAwareTokenRefreshSerializer(TokenRefreshSerializer):
    """simplejwt checks CHECK_REVOKE_TOKEN on access tokens only: a refresh token issued before a
    password change would still mint new access tokens (they would then be refused, but the refresh
    answered 200 and was rotated). Here it is refused at once."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        if api_settings.CHECK_REVOKE_TOKEN:
            from django.contrib.auth import get_user_model

            refresh = RefreshToken(attrs["refresh"])
            user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: refresh.get(api_settings.USER_ID_CLAIM)}).first()
            if user is None or not password_unchanged(refresh, user):
                raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return super().validate(attrs)


def service_group_add(user: Any) -> Any:
    """Makes ``user`` an API caller (a member of SERVICE_GROUP, created if missing); returns it."""
    from django.contrib.auth.models import Group

    group, _ = Group.objects.get_or_create(name=SERVICE_GROUP)
    user.groups.add(group)
    return user

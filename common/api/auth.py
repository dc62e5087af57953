"""API authentication: simplejwt, plus immediate revocation of long-lived service tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, update_last_login
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf_exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenObtainSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from common.api.models import ServiceToken
from common.principal import SERVICE_CLAIM

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
    answered 200 and was rotated). Here it is refused at once; so is one whose user has left the
    service group (or got it before only service users could), like ServiceTokenObtainPairSerializer."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = RefreshToken(attrs["refresh"])
        user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: refresh.get(api_settings.USER_ID_CLAIM)}).first()
        if api_settings.CHECK_REVOKE_TOKEN and (user is None or not password_unchanged(refresh, user)):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        if user is not None and not is_service_user(user):
            raise AuthenticationFailed(NOT_A_SERVICE_ACCOUNT, code="no_active_account")
        return super().validate(attrs)


# The same answer as a wrong password: the endpoint never confirms that a staff password is right.
NOT_A_SERVICE_ACCOUNT = "Usuário ou senha incorretos, ou a conta não é de serviço (só o grupo Integração Bubble recebe tokens)."


def is_service_user(user: Any) -> bool:
    """Only the service group uses the API; staff, superusers included, work in the admin (with 2FA)."""
    return bool(user.is_active and user.groups.filter(name=SERVICE_GROUP).exists())


class ServiceTokenObtainPairSerializer(TokenObtainPairSerializer):
    """``/v1/auth/token/`` issues tokens to members of SERVICE_GROUP only.

    Before: a superuser enrolled in TOTP got a token pair with the password alone, a way around the
    admin's second factor. Anyone else is answered exactly as a wrong password, and the attempt counts
    as a failed login for django-axes' lockout (it is a password tried where it opens nothing).
    """

    default_error_messages = {"no_active_account": NOT_A_SERVICE_ACCOUNT}

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        TokenObtainSerializer.validate(self, attrs)  # authenticates (axes counts wrong passwords), sets self.user
        if not is_service_user(self.user):
            user_login_failed.send(sender=type(self), credentials={self.username_field: attrs[self.username_field]},
                                   request=self.context.get("request"))
            # DRF's exception, as simplejwt raises for a wrong password: the same body, byte for byte.
            raise drf_exceptions.AuthenticationFailed(self.error_messages["no_active_account"], code="no_active_account")
        refresh = self.get_token(self.user)
        if api_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return {"refresh": str(refresh), "access": str(refresh.access_token)}


def service_group_add(user: Any) -> Any:
    """Makes ``user`` an API caller (a member of SERVICE_GROUP, created if missing); returns it."""
    group, _ = Group.objects.get_or_create(name=SERVICE_GROUP)
    user.groups.add(group)
    return user

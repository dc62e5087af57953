"""simplejwt's token views with the ``auth`` rate limit (common/api/throttles.py); tokens only for
the service group (common/api/auth.py)."""

from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from common.api.auth import ServiceTokenObtainPairSerializer
from common.api.throttles import AuthRateThrottle


class ThrottledTokenObtainPairView(TokenObtainPairView):
    serializer_class = ServiceTokenObtainPairSerializer
    throttle_classes = [AuthRateThrottle]


class ThrottledTokenRefreshView(TokenRefreshView):
    throttle_classes = [AuthRateThrottle]


class ThrottledTokenBlacklistView(TokenBlacklistView):
    throttle_classes = [AuthRateThrottle]

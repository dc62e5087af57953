"""simplejwt's token views with the ``auth`` rate limit (integrations/throttles.py); tokens only for
the service group (integrations/auth.py)."""

from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from integrations.auth import ServiceTokenObtainPairSerializer
from integrations.throttles import AuthRateThrottle


class ThrottledTokenObtainPairView(TokenObtainPairView):
    serializer_class = ServiceTokenObtainPairSerializer
    throttle_classes = [AuthRateThrottle]


class ThrottledTokenRefreshView(TokenRefreshView):
    throttle_classes = [AuthRateThrottle]


class ThrottledTokenBlacklistView(TokenBlacklistView):
    throttle_classes = [AuthRateThrottle]

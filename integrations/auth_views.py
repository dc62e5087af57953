"""simplejwt's token views with the ``auth`` rate limit (integrations/throttles.py)."""

from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from integrations.throttles import AuthRateThrottle


class ThrottledTokenObtainPairView(TokenObtainPairView):
    throttle_classes = [AuthRateThrottle]


class ThrottledTokenRefreshView(TokenRefreshView):
    throttle_classes = [AuthRateThrottle]


class ThrottledTokenBlacklistView(TokenBlacklistView):
    throttle_classes = [AuthRateThrottle]

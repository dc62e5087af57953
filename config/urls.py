from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from billing.webhook_views import pagarme_webhook
from common import health
from common.schema import SchemaView
from integrations.omie.webhooks.views import omie_webhook

api_v1 = [
    path("auth/token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("auth/token/blacklist/", TokenBlacklistView.as_view(), name="token_blacklist"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("orders.urls")),
    path("", include("billing.urls")),
]

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("v1/", include(api_v1)),
    path("webhooks/pagarme", pagarme_webhook, name="webhook-pagarme"),
    path("webhooks/omie/<str:token>", omie_webhook, name="webhook-omie"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
]

if settings.SANDBOX:
    from django.core.exceptions import ImproperlyConfigured

    # The fakes answer like Omie and Bubble: never expose them on a real server by accident.
    if not (settings.DEBUG or settings.SANDBOX_FORCE):
        raise ImproperlyConfigured("SANDBOX=true with DEBUG off: set SANDBOX_FORCE=true if you really mean it.")
    urlpatterns.append(path("sandbox/", include("integrations.sandbox.urls")))

handler404 = "common.exceptions.handler404"
handler500 = "common.exceptions.handler500"

admin.site.site_header = "Blu × Omie — backoffice"
admin.site.site_title = "Backoffice Blu × Omie"
admin.site.index_title = "Operação"

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from backoffice.integrations_check import integrations_check_view
from backoffice.metrics.view import metrics_view
from billing.nfse_views import nfse_document_public
from common import health
from common.api.auth_views import ThrottledTokenBlacklistView, ThrottledTokenObtainPairView, ThrottledTokenRefreshView
from common.exceptions import api_route_not_found
from common.schema import DocsView, SchemaView
from integrations.omie.webhooks.views import omie_webhook
from integrations.pagarme.webhooks.views import pagarme_webhook

api_v1 = [
    path("auth/token/", ThrottledTokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("auth/token/refresh/", ThrottledTokenRefreshView.as_view(), name="token_refresh"),
    path("auth/token/blacklist/", ThrottledTokenBlacklistView.as_view(), name="token_blacklist"),
    path("schema/", SchemaView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, so the CSP holds.
    path("docs/", DocsView.as_view(url_name="schema"), name="docs"),
    path("", include("orders.urls")),
    path("", include("billing.urls")),
    # Last: any other /v1/ path is a 404 in the error envelope, also with DEBUG on (where Django
    # would answer its HTML debug page instead of calling handler404).
    re_path(r"^.*$", api_route_not_found),
]

urlpatterns = [
    # Before the admin's catch-all: the go-live check page (superusers and Financeiro).
    path(f"{settings.ADMIN_URL}verificar-integracoes/", admin.site.admin_view(integrations_check_view), name="integrations_check"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("v1/", include(api_v1)),
    path("webhooks/pagarme", pagarme_webhook, name="webhook-pagarme"),
    path("webhooks/omie/<str:token>", omie_webhook, name="webhook-omie"),
    # The customer's link to an NFS-e's PDF or XML (Bubble's nf_link / nf_xml_link).
    path("nf/<str:token>", nfse_document_public, name="nfse-document"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    # Prometheus (docs/observability.md): token or basic auth; nginx never proxies it.
    path("metrics", metrics_view, name="metrics"),
    re_path(r"^webhooks/.*$", api_route_not_found),
]

if settings.SANDBOX:
    from django.core.exceptions import ImproperlyConfigured

    # The fakes answer like Omie and Bubble: never expose them on a real server by accident.
    if not (settings.DEBUG or settings.SANDBOX_FORCE):
        raise ImproperlyConfigured("SANDBOX=true with DEBUG off: set SANDBOX_FORCE=true if you really mean it.")
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

handler403 = "common.exceptions.handler403"
handler404 = "common.exceptions.handler404"
handler500 = "common.exceptions.handler500"

admin.site.site_header = "Blu × Omie — backoffice"
admin.site.site_title = "Backoffice Blu × Omie"
admin.site.index_title = "Operação"

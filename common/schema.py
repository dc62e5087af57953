from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, JSON by default (``?format=yaml`` for YAML), errors in the JSON envelope."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]


class ServiceAwareJWTScheme(SimpleJWTScheme):
    """Documents our JWT authentication (simplejwt plus service-token revocation) as Bearer JWT."""

    target_class = "integrations.auth.ServiceAwareJWTAuthentication"

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, JSON by default (``?format=yaml`` for YAML), errors in the JSON envelope."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]


class ServiceAwareJWTScheme(SimpleJWTScheme):
    """Documents the project's JWT authentication (simplejwt plus revocable service tokens) as Bearer."""

    target_class = "integrations.auth.ServiceAwareJWTAuthentication"
    name = "jwtAuth"

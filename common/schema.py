from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, JSON by default (``?format=yaml`` for YAML), errors in the JSON envelope."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]

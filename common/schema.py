from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, JSON by default (``?format=yaml`` for YAML), errors in the JSON envelope."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]


class DocsView(SpectacularSwaggerSplitView):
    """The API's page. A browser with no session and no token goes to the admin login and comes back;
    a caller with a token (Authorization header) gets the usual answer, 401 in the envelope included."""

    def dispatch(self, request, *args, **kwargs):
        # Before DRF's permission check: the session user from Django's middleware.
        if "HTTP_AUTHORIZATION" not in request.META and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=f"/{settings.ADMIN_URL}login/")
        return super().dispatch(request, *args, **kwargs)


class ServiceAwareJWTScheme(SimpleJWTScheme):
    """Documents the project's JWT authentication (simplejwt plus revocable service tokens) as Bearer."""

    target_class = "common.api.auth.ServiceAwareJWTAuthentication"
    name = "jwtAuth"


# Every error any /v1/ or /webhooks/ operation can answer, in the envelope of docs/contract.md#error-envelope. Listed on every
# operation by a postprocessing hook instead of on each view: the exception handler is global, so
# the answers are too (an unknown order is a 404 on every order path, no token a 401 everywhere…).
ERROR_RESPONSES = {
    "400": "Dados inválidos (o campo está em details.fields) ou corpo que não é JSON.",
    "401": "Sem token, token inválido, expirado ou revogado.",
    "403": "O usuário do token não tem a permissão desta ação.",
    "404": "Pedido, cliente ou rota não encontrados.",
    "405": "Método não permitido.",
    "409": "Estado atual não permite a ação (invalid_state) ou a mesma Idempotency-Key ainda em execução.",
    "413": "Corpo maior que 1 MB.",
    "415": "Content-Type diferente de application/json.",
    "422": "Idempotency-Key reutilizada com outro corpo.",
    "429": "Muitas requisições.",
    "500": "Erro interno (details.sentry_event_id quando o Sentry está ligado).",
}
_ENVELOPE = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
            },
        }
    },
}


# Path parameters that are Bubble unique ids (orders.models.BUBBLE_ID_REGEX): a malformed one is a 400.
BUBBLE_ID_PATTERN = r"^[0-9]{10,16}x[0-9]{10,24}$"
_BUBBLE_ID_PARAMS = {"bubble_id", "order_id"}


def add_error_responses(result: dict, generator: object, request: object, public: bool) -> dict:
    """drf-spectacular postprocessing hook: the error envelope on every operation, for every status,
    and the Bubble id format on order path parameters."""
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorEnvelope"] = _ENVELOPE
    ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, operations in result.get("paths", {}).items():
        _parameters_constrain(path, operations.get("parameters", []))
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            _parameters_constrain(path, operation.get("parameters", []))
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                if status in {"415", "413", "422"} and method == "get":
                    continue
                responses.setdefault(status, {"description": description, "content": {"application/json": {"schema": ref}}})
    return result


def _parameters_constrain(path: str, parameters: list[dict]) -> None:
    for parameter in parameters:
        if parameter.get("in") == "path" and parameter.get("name") in _BUBBLE_ID_PARAMS and path.startswith("/v1/orders/"):
            parameter.setdefault("schema", {})["pattern"] = BUBBLE_ID_PATTERN
        if parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key":
            # common/api/idempotency.py accepts 1-255 visible ASCII characters (no '"' inside).
            parameter.setdefault("schema", {}).update(pattern=r"^[!#-~]{1,255}$", maxLength=255)

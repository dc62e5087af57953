import pytest

pytestmark = pytest.mark.django_db


def _assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert "json" in response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body


def test_unauthenticated_call_gets_401_in_the_envelope(api_client):
    response = api_client.get("/v1/schema/")
    _assert_envelope(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_garbage_token_gets_401_invalid_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    _assert_envelope(api_client.get("/v1/schema/"), 401, "invalid_token")


def test_unknown_v1_route_gets_404_in_the_envelope(auth_client):
    _assert_envelope(auth_client.get("/v1/does-not-exist/"), 404, "not_found")


@pytest.mark.parametrize("path", ["/v1/does-not-exist/", "/v1/orders/1x2/nope", "/webhooks/nope"])
def test_unknown_api_routes_get_the_envelope_even_with_debug_on(auth_client, settings, path):
    settings.DEBUG = True  # as in `make run`: Django would answer its HTML debug page
    _assert_envelope(auth_client.get(path), 404, "not_found")


def test_anonymous_browser_on_the_api_docs_goes_to_the_admin_login(client):
    response = client.get("/v1/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/v1/docs/"


def test_the_api_docs_answer_a_logged_in_admin(admin_client):
    assert admin_client.get("/v1/docs/").status_code == 200


def test_unknown_webhook_route_gets_404_in_the_envelope(api_client):
    _assert_envelope(api_client.post("/webhooks/nope", data=b"{}", content_type="application/json"), 404, "not_found")


def test_wrong_method_gets_405_in_the_envelope(api_client):
    _assert_envelope(api_client.get("/v1/auth/token/"), 405, "method_not_allowed")


def test_a_view_that_raises_gets_500_without_traceback(auth_client, settings):
    settings.ROOT_URLCONF = "common.tests.urls"
    auth_client.raise_request_exception = False
    response = auth_client.get("/v1/_test/explode/")
    body = _assert_envelope(response, 500, "internal_error")
    text = response.content.decode()
    assert "Traceback" not in text and "boom" not in text and "RuntimeError" not in text
    assert body["error"]["details"] == {}  # Sentry is off in tests: no event id to show


def test_body_over_1mb_gets_413_in_the_envelope(api_client):
    response = api_client.post("/v1/auth/token/", data=b"{" + b" " * (1024 * 1024 + 10) + b"}", content_type="application/json")
    _assert_envelope(response, 413, "payload_too_large")


def test_non_json_body_gets_400_in_the_envelope(api_client):
    response = api_client.post("/v1/auth/token/", data=b"{not json", content_type="application/json")
    _assert_envelope(response, 400, "validation_error")


def test_wrong_content_type_gets_415_in_the_envelope(api_client):
    response = api_client.post("/v1/auth/token/", data=b"username=a", content_type="text/plain")
    _assert_envelope(response, 415, "unsupported_media_type")


def test_request_id_is_honoured_and_echoed(api_client):
    response = api_client.get("/health/live", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    generated = api_client.get("/health/live", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32

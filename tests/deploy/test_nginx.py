"""nginx/nginx.conf.template as rendered by nginx/render, checked by Debian's `nginx -t`."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.files import ROOT, compose, tool


def render(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "conf" / "nginx.conf"
    full_env = {"PATH": os.environ["PATH"], "NGINX_RUNTIME_DIR": str(tmp_path / "run"), **env}
    result = subprocess.run([str(ROOT / "nginx" / "render"), str(out)], env=full_env, capture_output=True, text=True)
    return result, out


def directives(conf: Path) -> str:
    """The rendered configuration without its comment lines."""
    return "\n".join(line for line in conf.read_text().splitlines() if not line.strip().startswith("#"))


def nginx_test(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("nginx"), "-t", "-e", "stderr", "-c", str(conf)], capture_output=True, text=True)


def _compose_nginx_env() -> dict[str, str]:
    """The nginx service's environment as compose would pass it with an empty .env (defaults applied)."""
    env = {}
    for name, value in compose()["services"]["nginx"]["environment"].items():
        match = re.fullmatch(r"\$\{\w+:-(.*)\}", str(value))
        env[name] = match.group(1) if match else str(value)
    return env


def test_the_compose_configuration_passes_nginx_t(tmp_path):
    result, conf = render(tmp_path, **_compose_nginx_env())
    assert result.returncode == 0, result.stderr
    checked = nginx_test(conf)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_flower_and_tls_enabled_pass_nginx_t(tmp_path):
    openssl = tool("openssl")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )
    env = _compose_nginx_env() | {
        "NGINX_FLOWER_UPSTREAM": "flower:5555",
        "NGINX_TRUST_FORWARDED_PROTO": "true",
        "NGINX_TLS_CERTIFICATE": str(tmp_path / "cert.pem"),
        "NGINX_TLS_CERTIFICATE_KEY": str(tmp_path / "key.pem"),
    }
    result, conf = render(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    text = directives(conf)
    assert "location /flower/" in text and "listen 443 ssl" in text
    assert "proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;" in text
    checked = nginx_test(conf)
    assert checked.returncode == 0, checked.stderr


def test_flower_is_not_proxied_unless_configured(tmp_path):
    _result, conf = render(tmp_path, **_compose_nginx_env())
    text = directives(conf)
    assert "location /flower/" not in text and "flower_upstream" not in text
    assert "listen 443" not in text and not re.search(r"^\s*#@(if|endif)", conf.read_text(), flags=re.M)
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text


def test_the_body_limit_is_the_apis(tmp_path, settings):
    _, conf = render(tmp_path, **_compose_nginx_env())
    assert f"client_max_body_size {settings.API_MAX_BODY_BYTES};" in conf.read_text()
    # compose passes the same variable to nginx and (through .env) to Django, defaulting to the same value.
    passed = compose()["services"]["nginx"]["environment"]["API_MAX_BODY_BYTES"]
    assert passed == f"${{API_MAX_BODY_BYTES:-{settings.API_MAX_BODY_BYTES}}}"


def test_every_proxied_location_passes_the_request_id_and_the_real_scheme(tmp_path):
    _, conf = render(tmp_path, **_compose_nginx_env())
    text = directives(conf)
    server = text[text.index("    server {"):]
    # proxy_set_header is set once at server level; a location with its own would drop them all.
    assert server.count("proxy_set_header") == text.count("proxy_set_header")
    for location in re.findall(r"location [^{]+\{[^}]*\}", server):
        assert "proxy_set_header" not in location, location
    assert "proxy_set_header X-Request-ID $blu_request_id;" in server
    assert "proxy_set_header Host $host;" in server


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NGINX_LISTEN_PORT": "80a"}, "not a number: 80a"),
        ({"API_MAX_BODY_BYTES": "1m"}, "not a number: 1m"),
        ({"NGINX_TLS_CERTIFICATE": "/x.pem"}, "NGINX_TLS_CERTIFICATE_KEY is not"),
        ({"NGINX_TRUST_FORWARDED_PROTO": "yes"}, "must be true or false"),
    ],
)
def test_render_refuses_bad_values(tmp_path, env, message):
    result, conf = render(tmp_path, **env)
    assert result.returncode == 1 and message in result.stderr
    assert not conf.exists()


def test_values_with_sed_metacharacters_are_rendered_literally(tmp_path):
    result, conf = render(tmp_path, NGINX_SERVER_NAME=r"a|b&c\d.example.com")
    assert result.returncode == 0, result.stderr
    assert r"server_name a|b&c\d.example.com;" in conf.read_text()


# --- Hardening (issue: 80→443, HSTS on static files, $remote_addr, limit_req, Flower allow/deny) ----------------------

import http.server  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import ssl  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

from testsupport.processes import free_port  # noqa: E402


class _Upstream(http.server.ThreadingHTTPServer):
    """Stands in for gunicorn (and Flower): answers 200 with the headers it received."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                body = json.dumps({"path": self.path, "xff": self.headers.get("X-Forwarded-For")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def tls_nginx(tmp_path):
    openssl = tool("openssl")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    # nginx's workers run unprivileged: the static files must be world-readable, which tmp_path (0700) is not.
    static = Path(tempfile.mkdtemp(prefix="blu-nginx-static-"))
    static.chmod(0o755)
    (static / "app.css").write_text("body{}")
    (static / "app.css").chmod(0o644)
    upstream = _Upstream()
    ports = {"http": free_port(), "https": free_port()}

    def start(access: str = "allow 127.0.0.1;\ndeny all;\n") -> dict[str, int]:
        conf_dir = tmp_path / "conf"
        env = {"NGINX_LISTEN_PORT": str(ports["http"]), "NGINX_TLS_PORT": str(ports["https"]),
               "NGINX_TLS_CERTIFICATE": str(tmp_path / "cert.pem"), "NGINX_TLS_CERTIFICATE_KEY": str(tmp_path / "key.pem"),
               "NGINX_WEB_UPSTREAM": f"127.0.0.1:{upstream.server_port}", "NGINX_FLOWER_UPSTREAM": f"127.0.0.1:{upstream.server_port}",
               "NGINX_STATIC_ROOT": str(static), "NGINX_RESOLVER": "127.0.0.1", "NGINX_ADMIN_URL": "ops-7f3a/"}
        result, conf = render(tmp_path, **env)
        assert result.returncode == 0, result.stderr
        # The shipped allow/deny file, or a deployment's own (what compose mounts over it).
        text = conf.read_text().replace(str(ROOT / "nginx" / "flower_access.conf"), str(conf_dir / "flower_access.conf"))
        (conf_dir / "flower_access.conf").write_text(access)
        conf.write_text(text)
        started.append(nginx_serving(conf, ports["http"]))
        return ports

    started: list[subprocess.Popen] = []
    yield start
    for proc in started:
        proc.terminate()
        proc.wait(10)
    upstream.shutdown()
    shutil.rmtree(static, ignore_errors=True)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _open(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=context))
    try:
        return opener.open(urllib.request.Request(url, data=data, headers=headers or {}), timeout=5)
    except urllib.error.HTTPError as exc:
        return exc


def test_with_tls_plain_http_redirects_and_only_the_health_check_stays(tls_nginx):
    ports = tls_nginx()
    response = _open(f"http://127.0.0.1:{ports['http']}/v1/orders/x?a=1")
    assert response.status == 301
    assert response.headers["Location"] == f"https://127.0.0.1:{ports['https']}/v1/orders/x?a=1"
    assert _open(f"http://127.0.0.1:{ports['http']}/nginx-health").status == 200
    assert _open(f"https://127.0.0.1:{ports['https']}/v1/orders/x").status == 200  # proxied over TLS


def test_static_files_get_hsts_over_https(tls_nginx):
    ports = tls_nginx()
    asset = _open(f"https://127.0.0.1:{ports['https']}/static/app.css")
    assert asset.status == 200
    assert asset.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_django_gets_the_address_nginx_saw_not_the_clients_forwarded_for(tls_nginx, tmp_path):
    ports = tls_nginx()
    seen = json.loads(_open(f"https://127.0.0.1:{ports['https']}/v1/x", headers={"X-Forwarded-For": "6.6.6.6"}).read())
    assert seen["xff"] == "127.0.0.1"
    log_format = re.search(r"log_format blu_json.*?;", (tmp_path / "conf" / "nginx.conf").read_text(), flags=re.S).group(0)
    assert "$remote_addr" in log_format and "x_forwarded_for" not in log_format


@pytest.mark.parametrize("path", ["/v1/auth/token/", "/ops-7f3a/login/"])
def test_logins_are_rate_limited_per_address(tls_nginx, path):
    ports = tls_nginx()
    url = f"https://127.0.0.1:{ports['https']}{path}"
    statuses = [_open(url, data=b"{}", headers={"Content-Type": "application/json"}).status for _ in range(8)]
    assert statuses[:6] == [200] * 6  # one plus the burst of 5
    assert statuses[6:] == [429, 429]
    refused = _open(url, data=b"{}")
    assert json.loads(refused.read())["error"]["code"] == "throttled"
    assert _open(url).status == 200  # GET (the login form) is not limited
    assert _open(f"https://127.0.0.1:{ports['https']}/v1/orders/x", data=b"{}").status == 200  # nor other endpoints


def test_pagarme_webhook_floods_are_rate_limited_per_address(tls_nginx):
    ports = tls_nginx()
    # One keep-alive connection: 80 posts well within a second or two, as a flood would send them.
    connection = http.client.HTTPSConnection("127.0.0.1", ports["https"], context=ssl._create_unverified_context(), timeout=5)
    statuses, refused = [], b""
    started = time.monotonic()
    for _ in range(80):
        connection.request("POST", "/webhooks/pagarme", body=b"{}", headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        statuses.append(response.status)
        if response.status == 429:
            refused = body
    connection.close()
    refilled = int((time.monotonic() - started) * 10) + 1  # 10 r/s
    # One plus the burst of 50 pass at once, plus what 10 r/s refilled meanwhile; the rest are 429.
    assert 51 <= statuses.count(200) <= 51 + refilled, (statuses.count(200), refilled)
    assert statuses.count(429) == 80 - statuses.count(200) and statuses.count(429) > 0
    assert json.loads(refused)["error"]["code"] == "throttled"
    assert _open(f"https://127.0.0.1:{ports['https']}/v1/orders/x", data=b"{}").status == 200  # other endpoints unaffected


@pytest.mark.parametrize(("access", "status"), [("allow 127.0.0.1;\ndeny all;\n", 200), ("allow 192.0.2.10;\ndeny all;\n", 403)])
def test_flower_is_reachable_only_from_the_allowed_addresses(tls_nginx, access, status):
    ports = tls_nginx(access=access)
    assert _open(f"https://127.0.0.1:{ports['https']}/flower/").status == status
    assert _open(f"https://127.0.0.1:{ports['https']}/v1/x").status == 200  # the rest of the site is not affected


def test_the_shipped_flower_access_file_denies_everyone_else_and_compose_mounts_it():
    lines = [line.split("#")[0].strip() for line in (ROOT / "nginx" / "flower_access.conf").read_text().splitlines()]
    rules = [line for line in lines if line]
    assert rules[-1] == "deny all;" and all(rule.startswith(("allow ", "deny ")) for rule in rules)
    volumes = compose()["services"]["nginx"]["volumes"]
    assert "${NGINX_FLOWER_ACCESS_FILE:-./nginx/flower_access.conf}:/etc/nginx/blu/flower_access.conf:ro" in volumes


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/METRICS", "//metrics", "/metrics?x=1", "/flower/metrics"])
def test_metrics_are_never_served_through_nginx(tls_nginx, path):
    ports = tls_nginx()
    response = _open(f"https://127.0.0.1:{ports['https']}{path}", headers={"Authorization": "Bearer anything"})
    assert response.status == 404
    assert _open(f"https://127.0.0.1:{ports['https']}/metricsx").status == 200  # only that path: the rest reaches Django


def nginx_serving(conf: Any, port: int) -> subprocess.Popen:
    """Starts nginx with ``conf`` and returns once it answers /nginx-health on ``port`` (10 s at most)."""
    proc = subprocess.Popen([tool("nginx"), "-e", "stderr", "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nginx-health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.stderr.read().decode() if proc.poll() is not None else "nginx did not start")

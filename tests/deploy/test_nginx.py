"""nginx/nginx.conf.template as rendered by nginx/render, checked by Debian's `nginx -t`."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

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

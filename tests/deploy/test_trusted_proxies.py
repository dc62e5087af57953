"""Behind a load balancer, nginx's real_ip (NGINX_REAL_IP_FROM) gives every client its own address; the
production settings refuse a DJANGO_TRUSTED_PROXIES that is not addresses or trusts everyone."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.deploy.test_nginx import _open, _Upstream, directives, nginx_serving, nginx_test, render
from tests.deploy.test_production_settings import manage, realistic_env
from testsupport.processes import free_port


@pytest.fixture
def plain_nginx(tmp_path):
    """nginx without TLS in front of a stand-in upstream that echoes the X-Forwarded-For it got."""
    upstream = _Upstream()
    started: list[subprocess.Popen] = []

    def start(**env: str) -> int:
        port = free_port()
        result, conf = render(tmp_path, NGINX_LISTEN_PORT=str(port), NGINX_WEB_UPSTREAM=f"127.0.0.1:{upstream.server_port}",
                              NGINX_RESOLVER="127.0.0.1", NGINX_STATIC_ROOT=str(tmp_path), **env)
        assert result.returncode == 0, result.stderr
        started.append(nginx_serving(conf, port))
        return port

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(10)
    upstream.shutdown()


def _seen(port: int, forwarded: str) -> str:
    return json.loads(_open(f"http://127.0.0.1:{port}/v1/x", headers={"X-Forwarded-For": forwarded}).read())["xff"]


def test_without_a_balancer_the_clients_header_is_overwritten_with_the_peer(plain_nginx, tmp_path):
    port = plain_nginx()
    assert _seen(port, "6.6.6.6") == "127.0.0.1"
    assert "set_real_ip_from" not in directives(tmp_path / "conf" / "nginx.conf")


def test_behind_a_listed_balancer_django_gets_the_client_the_balancer_saw(plain_nginx, tmp_path):
    port = plain_nginx(NGINX_REAL_IP_FROM="127.0.0.1, 10.20.0.0/16")  # the test connects from 127.0.0.1: the "balancer"
    text = directives(tmp_path / "conf" / "nginx.conf")
    assert "set_real_ip_from 127.0.0.1; set_real_ip_from 10.20.0.0/16;" in text and "real_ip_recursive on;" in text
    assert nginx_test(tmp_path / "conf" / "nginx.conf").returncode == 0
    assert _seen(port, "198.51.100.4") == "198.51.100.4"
    assert _seen(port, "6.6.6.6, 198.51.100.4") == "198.51.100.4"  # what the client wrote is left of the balancer's entry


def test_behind_a_balancer_one_client_hitting_the_login_limit_leaves_the_others_alone(plain_nginx):
    port = plain_nginx(NGINX_REAL_IP_FROM="127.0.0.1")
    url = f"http://127.0.0.1:{port}/v1/auth/token/"

    def post(client: str) -> int:
        return _open(url, data=b"{}", headers={"Content-Type": "application/json", "X-Forwarded-For": client}).status

    attacker = [post("198.51.100.66") for _ in range(8)]
    assert attacker[-1] == 429
    assert post("198.51.100.77") == 200  # another client behind the same balancer


def test_an_unlisted_peer_cannot_choose_its_address(plain_nginx):
    port = plain_nginx(NGINX_REAL_IP_FROM="10.20.0.0/16")
    assert _seen(port, "198.51.100.4") == "127.0.0.1"


@pytest.mark.parametrize("value", ["0.0.0.0/0", "::/0", "10.0.0.0/8;evil"])
def test_render_refuses_trusting_everyone_or_anything_but_addresses(tmp_path, value):
    result, _conf = render(tmp_path, NGINX_REAL_IP_FROM=value)
    assert result.returncode != 0 and "NGINX_REAL_IP_FROM" in result.stderr


@pytest.mark.parametrize(("value", "message"), [("10.0.0.0/8,nginx", "not an IP address or CIDR: 'nginx'"),
                                                ("0.0.0.0/0", "must not trust every address")])
def test_production_refuses_a_bad_trusted_proxies_list(value, message):
    result = manage(realistic_env(DJANGO_TRUSTED_PROXIES=value), "check")
    assert result.returncode != 0 and message in result.stderr


def test_production_trusts_only_the_private_ranges_by_default():
    code = "from django.conf import settings; print(settings.TRUSTED_PROXIES)"
    out = manage(realistic_env(), "shell", "-c", code).stdout.strip().splitlines()[-1]
    assert "0.0.0.0/0" not in out and "10.0.0.0/8" in out and "172.16.0.0/12" in out

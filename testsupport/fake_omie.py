"""Helpers for tests and benches that drive the fake Omie (served by a live server or gunicorn)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import requests
from django.conf import settings
from stdnum.br import cnpj

from sandbox.fake_omie.handlers import compact_document
from sandbox.fake_omie.models import FakeCustomer, FakeOmieCall
from sandbox.fake_omie.services import (
    fake_omie_ban,
    fake_omie_configure,
    fake_omie_inject,
    fake_omie_reset,
    fake_omie_seed_customer,
)
from testsupport.processes import ROOT, subprocess_env


def make_cnpj(n: int) -> str:
    """A valid numeric CNPJ (head office, ``0001``) built from ``n``, for fake companies."""
    base = f"{n % 10**8:08d}0001"
    return base + cnpj.calc_check_digits(base + "00")


def make_cpf(n: int) -> str:
    """A valid CPF built from ``n`` (distinct n → distinct CPFs), for fake customers."""
    base = [int(c) for c in f"{n % 10**9:09d}"]
    if len(set(base)) == 1:
        base[-1] = (base[-1] + 1) % 10  # repeated digits are invalid CPFs
    for size in (9, 10):
        total = sum(d * w for d, w in zip(base, range(size + 1, 1, -1), strict=False))
        base.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, base))


class FakeOmie:
    """The fake Omie of one live server: its URL, and its control helpers (same database)."""

    def __init__(self, server_url: str, *, app_key: str = "test-app-key", app_secret: str = "test-app-secret") -> None:
        self.server_url = server_url.rstrip("/")
        self.api_url = f"{self.server_url}/sandbox/omie/api/v1/"
        self.control_url = f"{self.server_url}/sandbox/omie/_control/"
        self.app_key = app_key
        self.app_secret = app_secret

    def point_settings(self, target: Any) -> None:
        """Points a settings object (pytest-django's ``settings`` fixture) at this fake."""
        target.OMIE_BASE_URL = self.api_url
        target.OMIE_APP_KEY = self.app_key
        target.OMIE_APP_SECRET = self.app_secret

    def env(self, **extra: Any) -> dict[str, str]:
        """Environment for a child process whose client must call this fake."""
        values = {"OMIE_BASE_URL": self.api_url, "OMIE_APP_KEY": self.app_key, "OMIE_APP_SECRET": self.app_secret,
                  "TEST_REDIS_DB": str(settings.TEST_REDIS_DB)}
        values.update({k: str(v) for k, v in extra.items()})
        return subprocess_env(**values)

    def reset(self, **config: Any) -> None:
        fake_omie_reset(**config)

    def configure(self, **config: Any) -> None:
        fake_omie_configure(**config)

    def inject(self, kind: str, *, call: str = "", times: int = 1, seconds: float = 0) -> None:
        fake_omie_inject(kind=kind, call=call, times=times, seconds=seconds)

    def ban(self, call: str, *, seconds: float) -> None:
        fake_omie_ban(app_key=self.app_key, call=call, seconds=seconds)

    def seed_customer(self, *, key: str, document: str, name: str = "Cliente Semente") -> int:
        return fake_omie_seed_customer(codigo_cliente_integracao=key, cnpj_cpf=document, razao_social=name).codigo_cliente_omie

    def seed_customer_by_hand(self, *, document: str, name: str = "Cliente Cadastrado à Mão") -> int:
        """A customer registered in Omie's own screens: this document, no integration code."""
        return fake_omie_seed_customer(codigo_cliente_integracao="", cnpj_cpf=document, razao_social=name).codigo_cliente_omie

    def customers_with_document(self, document: str) -> list[FakeCustomer]:
        return list(FakeCustomer.objects.filter(cnpj_cpf=compact_document(document)).order_by("id"))

    def calls(self, call: str | None = None) -> list[FakeOmieCall]:
        qs = FakeOmieCall.objects.order_by("id")
        return list(qs.filter(call=call) if call else qs)

    def statuses(self, call: str | None = None) -> list[int | None]:
        return [c.http_status for c in self.calls(call)]


class Gunicorn:
    """A real gunicorn serving this project (fake Omie included) in its own process group."""

    def __init__(self, env: dict[str, str], *, workers: int = 3, threads: int = 1, log_path: str | None = None) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.workers = workers
        self.threads = threads
        self.log_path = log_path
        self.proc: Any = None

    def start(self, timeout: float = 30) -> Gunicorn:
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
             "--threads", str(self.threads), "--timeout", "60"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            try:
                requests.get(f"{self.url}/health/live", timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

"""The Pagar.me part of the integration check, self-contained on purpose.

It speaks to Pagar.me's API v5 through the shared HTTP layer with the setting names of the Pagar.me
client (PAGARME_API_BASE_URL, PAGARME_SECRET_KEY as the Basic-auth user with an empty password,
PAGARME_JWKS_URL, PAGARME_WEBHOOK_AUTH, PAGARME_WEBHOOK_BASIC_AUTH), read with defaults so this works
whether or not that client is installed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from integrations.checks.report import ERROR, OK, SKIPPED, WARNING, SystemReport
from integrations.http import IntegrationError, build_session, json_or_none, send

DEFAULT_API_BASE_URL = "https://api.pagar.me/core/v5"
DEFAULT_JWKS_URL = "https://hubapi.pagar.me/.well-known/jwks.json"
SCHEMES = {"rs256", "basic", "hmac"}
TIMEOUT = (5.0, 10.0)


def _setting(name: str, default: Any = "") -> Any:
    return getattr(settings, name, default)


def _schemes() -> list[str]:
    raw = _setting("PAGARME_WEBHOOK_AUTH", "hmac")
    items = raw if isinstance(raw, list | tuple) else str(raw or "").split(",")
    return [str(s).strip().lower() for s in items if str(s).strip()]


def check_pagarme(report: SystemReport) -> None:
    session = build_session("pagarme-check")
    try:
        _secret_key(report, session)
        schemes = _schemes()
        _jwks(report, session, schemes)
        _webhook_auth(report, schemes)
    finally:
        session.close()


def _secret_key(report: SystemReport, session: Any) -> None:
    name = "chave secreta (PAGARME_SECRET_KEY)"
    key = str(_setting("PAGARME_SECRET_KEY", "") or "")
    base = str(_setting("PAGARME_API_BASE_URL", "") or DEFAULT_API_BASE_URL).rstrip("/")
    if not key:
        verdict = SKIPPED if settings.SANDBOX else ERROR
        report.add(name, verdict, "nenhuma chamada: a chave não está configurada", "PAGARME_SECRET_KEY vazia",
                   "Copie a chave secreta (sk_…) do painel do Pagar.me → Configurações → Chaves e defina PAGARME_SECRET_KEY.")
        return
    tried = f"GET {base}/customers?size=1 com a chave secreta (Basic auth)"
    try:
        response = send(session, "GET", f"{base}/customers", timeout=TIMEOUT, params={"size": 1}, auth=(key, ""),
                        allow_redirects=False)
    except IntegrationError as exc:
        report.add(name, ERROR, tried, exc.message, "Verifique PAGARME_API_BASE_URL e a saída de rede do servidor para o Pagar.me.")
        return
    status = response.status_code
    if status == 200:
        live = not key.startswith("sk_test_")
        if not live and not settings.SANDBOX:
            report.add(name, WARNING, tried, "HTTP 200: chave aceita, mas é uma chave de TESTE (sk_test_)",
                       "Em produção use a chave secreta de produção (sk_…, sem 'test').")
        else:
            report.add(name, OK, tried, f"HTTP 200: chave aceita ({'produção' if live else 'teste'})")
        return
    body = json_or_none(response)
    message = body.get("message") if isinstance(body, dict) else ""
    got = f"HTTP {status}" + (f": {message}" if message else "")
    if status in (401, 403):
        report.add(name, ERROR, tried, got,
                   "O Pagar.me recusou PAGARME_SECRET_KEY: copie de novo a chave SECRETA (sk_…, não a pública pk_…) da conta certa.")
    else:
        report.add(name, ERROR, tried, got, "Resposta inesperada: confira PAGARME_API_BASE_URL (deve terminar em /core/v5).")


def _jwks(report: SystemReport, session: Any, schemes: list[str]) -> None:
    name = "chaves públicas dos webhooks (JWKS)"
    url = str(_setting("PAGARME_JWKS_URL", "") or DEFAULT_JWKS_URL)
    if "rs256" not in schemes:
        report.add(name, SKIPPED, "nenhuma chamada", "rs256 não está em PAGARME_WEBHOOK_AUTH: a assinatura RS256 não é usada")
        return
    tried = f"GET {url}"
    try:
        response = send(session, "GET", url, timeout=TIMEOUT, allow_redirects=False)
    except IntegrationError as exc:
        report.add(name, ERROR, tried, exc.message, "Verifique PAGARME_JWKS_URL e a saída de rede do servidor.")
        return
    body = json_or_none(response)
    keys = body.get("keys") if isinstance(body, dict) else None
    usable = [k for k in keys or [] if isinstance(k, dict) and k.get("kty") == "RSA" and k.get("use", "sig") == "sig"]
    if response.status_code == 200 and usable:
        report.add(name, OK, tried, f"HTTP 200: {len(usable)} chave(s) RSA de assinatura")
    else:
        what = "nenhuma chave RSA de assinatura" if response.status_code == 200 else "sem JWKS"
        report.add(name, ERROR, tried, f"HTTP {response.status_code}: {what}",
                   "Confira PAGARME_JWKS_URL (padrão: o JWKS do Pagar.me) ou tire rs256 de PAGARME_WEBHOOK_AUTH.")


def _webhook_auth(report: SystemReport, schemes: list[str]) -> None:
    name = "autenticação dos webhooks (PAGARME_WEBHOOK_AUTH)"
    tried = f"leitura da configuração: {','.join(schemes) or '(vazio)'}"
    unknown = [s for s in schemes if s not in SCHEMES]
    problems: list[str] = []
    if not schemes:
        problems.append("nenhum esquema: nenhum webhook seria aceito")
    if unknown:
        problems.append(f"esquema(s) desconhecido(s): {', '.join(unknown)} (use rs256, basic ou hmac)")
    if "basic" in schemes:
        user, sep, password = str(_setting("PAGARME_WEBHOOK_BASIC_AUTH", "") or "").partition(":")
        if not (sep and user and password):
            problems.append("basic sem PAGARME_WEBHOOK_BASIC_AUTH no formato usuário:senha")
    if "hmac" in schemes and not _setting("PAGARME_WEBHOOK_SECRET", ""):
        problems.append("hmac sem PAGARME_WEBHOOK_SECRET")
    if problems:
        report.add(name, ERROR, tried, "; ".join(problems),
                   "Defina PAGARME_WEBHOOK_AUTH com os esquemas que o webhook do painel usa (ex.: basic,rs256) e a "
                   "credencial de cada um; o mesmo usuário:senha deve estar no webhook do painel do Pagar.me.")
    elif schemes == ["rs256"]:
        report.add(name, WARNING, tried, "só rs256: um webhook configurado no painel pode chegar sem assinatura",
                   "Acrescente basic (usuário:senha também no webhook do painel) para não recusar webhooks legítimos.")
    else:
        report.add(name, OK, tried, "esquemas conhecidos, cada um com sua credencial")

"""The Pagar.me part of the integration check: the secret key (one cheap read through the Pagar.me
client), the JWKS the webhook signatures are checked with, and the configured webhook schemes."""

from __future__ import annotations

from django.conf import settings

from config.settings.integrations import pagarme_webhook_auth_problems
from integrations.checks.report import ERROR, OK, SKIPPED, WARNING, SystemReport
from integrations.pagarme.client import get_pagarme_client, jwks_fetch
from integrations.pagarme.errors import JwksUnavailable, PagarmeAuthError, PagarmeError
from integrations.pagarme.webhook_auth import jwks_usable_kids


def _schemes() -> list[str]:
    return list(settings.PAGARME_WEBHOOK_AUTH)


def check_pagarme(report: SystemReport) -> None:
    _secret_key(report)
    schemes = _schemes()
    _jwks(report, schemes)
    _webhook_auth(report, schemes)


def _secret_key(report: SystemReport) -> None:
    name = "chave secreta (PAGARME_SECRET_KEY)"
    key = settings.PAGARME_SECRET_KEY or ""
    if not key:
        verdict = SKIPPED if settings.SANDBOX else ERROR
        report.add(name, verdict, "nenhuma chamada: a chave não está configurada", "PAGARME_SECRET_KEY vazia",
                   "Copie a chave secreta (sk_…) do painel do Pagar.me → Configurações → Chaves e defina PAGARME_SECRET_KEY.")
        return
    tried = f"GET {settings.PAGARME_API_BASE_URL.rstrip('/')}/customers?size=1 com a chave secreta (Basic auth)"
    try:
        get_pagarme_client().ping()
    except PagarmeAuthError as exc:
        report.add(name, ERROR, tried, exc.message,
                   "O Pagar.me recusou PAGARME_SECRET_KEY: copie de novo a chave SECRETA (sk_…, não a pública pk_…) da conta certa.")
        return
    except PagarmeError as exc:
        report.add(name, ERROR, tried, exc.message,
                   "Confira PAGARME_API_BASE_URL (deve terminar em /core/v5) e a saída de rede do servidor para o Pagar.me.")
        return
    live = not key.startswith("sk_test_")
    if not live and not settings.SANDBOX:
        report.add(name, WARNING, tried, "HTTP 200: chave aceita, mas é uma chave de TESTE (sk_test_)",
                   "Em produção use a chave secreta de produção (sk_…, sem 'test').")
    else:
        report.add(name, OK, tried, f"HTTP 200: chave aceita ({'produção' if live else 'teste'})")


def _jwks(report: SystemReport, schemes: list[str]) -> None:
    name = "chaves públicas dos webhooks (JWKS)"
    if "rs256" not in schemes:
        report.add(name, SKIPPED, "nenhuma chamada", "rs256 não está em PAGARME_WEBHOOK_AUTH: a assinatura RS256 não é usada")
        return
    tried = f"GET {settings.PAGARME_JWKS_URL}"
    try:
        usable = jwks_usable_kids(jwks_fetch())
    except JwksUnavailable as exc:
        report.add(name, ERROR, tried, exc.message, "Verifique PAGARME_JWKS_URL e a saída de rede do servidor.")
        return
    if usable:
        report.add(name, OK, tried, f"HTTP 200: {len(usable)} chave(s) RSA de assinatura")
    else:
        report.add(name, ERROR, tried, "HTTP 200: nenhuma chave RSA de assinatura (os webhooks receberiam 503)",
                   "Confira PAGARME_JWKS_URL (padrão: o JWKS do Pagar.me) ou tire rs256 de PAGARME_WEBHOOK_AUTH.")


def _webhook_auth(report: SystemReport, schemes: list[str]) -> None:
    name = "autenticação dos webhooks (PAGARME_WEBHOOK_AUTH)"
    tried = f"leitura da configuração: {','.join(schemes) or '(vazio)'}"
    problems = pagarme_webhook_auth_problems(
        schemes, secret=settings.PAGARME_WEBHOOK_SECRET or "", basic=settings.PAGARME_WEBHOOK_BASIC_AUTH or ""
    )
    if problems:
        report.add(name, ERROR, tried, "; ".join(problems),
                   "Defina PAGARME_WEBHOOK_AUTH com os esquemas que o webhook do painel usa (ex.: basic,rs256) e a "
                   "credencial de cada um; o mesmo usuário:senha deve estar no webhook do painel do Pagar.me.")
    elif schemes == ["rs256"] and not settings.SANDBOX:
        report.add(name, WARNING, tried, "só rs256: um webhook configurado no painel pode chegar sem assinatura",
                   "Acrescente basic (usuário:senha também no webhook do painel) para não recusar webhooks legítimos.")
    else:
        report.add(name, OK, tried, "esquemas conhecidos, cada um com sua credencial")

"""One function per external system: each adds items (verdict, what was tried, what came back, what
to fix) to its ``SystemReport``. No secret, token or document is ever put in a report."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

import sentry_sdk
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone
from sentry_sdk.utils import BadDsn, Dsn

from common import health
from integrations.brasilapi.client import get_brasilapi_client
from integrations.brasilapi.errors import BrasilApiError
from integrations.bubble.client import get_bubble_client
from integrations.bubble.errors import BubbleError
from integrations.bubble.fields import CUSTOMER_READ, CUSTOMER_WRITE, ORDER_READ, ORDER_WRITE, dumps_exact, field_key, type_name
from integrations.checks.report import ERROR, OK, SKIPPED, WARNING, Item, SystemReport
from integrations.http import IntegrationError, build_session, json_or_none, send
from integrations.omie.client import get_omie_client
from integrations.omie.errors import OmieBusinessError, OmieNotNow
from integrations.omie.throttle import get_redis, get_throttle

# Omie -------------------------------------------------------------------------------------------
OMIE_GATE_KEY = "blu:checks:omie:gate"
OMIE_LAST_KEY = "blu:checks:omie:last"
OMIE_MIN_INTERVAL_SECONDS = 60
OMIE_KEYS_FIX = (
    "Confira OMIE_APP_KEY e OMIE_APP_SECRET: copie-os do Omie (Configurações → Aplicativos → sua integração / "
    "portal do desenvolvedor) e reinicie os processos."
)
_NOT_SENT_REASONS = {"rate", "concurrency", "paused", "error_budget", "manual"}


def check_omie(report: SystemReport) -> None:
    """The throttle's state, the keys (ONE read through the central throttle, at most once a
    minute for the whole deployment), and the configured defaults."""
    _omie_throttle(report)
    _omie_keys(report)
    _omie_service_mode(report)
    _omie_defaults(report)


def _omie_throttle(report: SystemReport) -> None:
    name = "estado do throttle central"
    tried = "leitura do estado no Redis (nenhuma chamada ao Omie)"
    try:
        states = get_throttle().state()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        report.add(name, ERROR, tried, f"Redis não respondeu ({type(exc).__name__})", "Verifique REDIS_URL.")
        return
    paused = [s for s in states if s.paused_until]
    strained = [s for s in states if not s.paused_until and s.errors_in_window >= max(1, s.error_budget - 1)]
    if not paused and not strained:
        report.add(name, OK, tried, "nenhum método pausado; orçamento de erros folgado")
        return
    parts = [f"{s.call} pausado até {timezone.localtime(s.paused_until):%d/%m %H:%M:%S} ({s.pause_label or s.pause_reason})"
             for s in paused]
    parts += [f"{s.call} com {s.errors_in_window} de {s.error_budget} erros na janela" for s in strained]
    banned = any(s.pause_reason == "banned" for s in paused)
    report.add(name, ERROR if banned else WARNING, tried, "; ".join(parts),
               "Veja o painel do Omie no admin (ou 'manage.py omie_throttle status'); retome um método com "
               "'omie_throttle resume MÉTODO' só depois de entender a causa.")


def _omie_keys(report: SystemReport) -> None:
    name = "chaves de acesso (OMIE_APP_KEY / OMIE_APP_SECRET)"
    if not settings.OMIE_APP_KEY or not settings.OMIE_APP_SECRET:
        report.add(name, ERROR, "nenhuma chamada: credenciais vazias", "OMIE_APP_KEY ou OMIE_APP_SECRET não configurada",
                   OMIE_KEYS_FIX)
        return
    redis = get_redis()
    if not redis.set(OMIE_GATE_KEY, str(time.time()), nx=True, ex=OMIE_MIN_INTERVAL_SECONDS):
        _omie_keys_cached(report, name, redis)
        return
    items = _omie_keys_call(report, name)
    redis.set(OMIE_LAST_KEY, json.dumps({"at": time.time(), "items": [i.__dict__ for i in items]}), ex=24 * 3600)


def _omie_keys_cached(report: SystemReport, name: str, redis: Any) -> None:
    raw = redis.get(OMIE_LAST_KEY)
    gate = redis.ttl(OMIE_GATE_KEY)
    wait = f"nova consulta possível em {max(1, gate)} s" if gate and gate > 0 else "nova consulta possível em instantes"
    if raw is None:
        report.add(name, WARNING, "nenhuma chamada: outra verificação consultou o Omie há menos de um minuto",
                   f"resultado ainda não disponível; {wait}", "Rode a verificação de novo em um minuto.")
        return
    last = json.loads(raw)
    at = timezone.localtime(datetime.fromtimestamp(float(last["at"]), tz=timezone.get_current_timezone()))
    for item in last.get("items") or [last["item"]]:
        report.items.append(Item(
            name=item["name"], verdict=item["verdict"],
            tried=f"nenhuma chamada agora: o Omie é consultado no máximo uma vez por minuto; resultado de {at:%H:%M:%S} "
                  f"({item['tried']}); {wait}",
            got=item["got"], fix=item["fix"],
        ))


def _omie_keys_call(report: SystemReport, name: str) -> list[Item]:
    """ONE Omie call: with OMIE_SERVICE_ID, ConsultarCadastroServico (it proves the keys and that the
    service exists); otherwise ListarNFSEs (1 record)."""

    service_id = int(getattr(settings, "OMIE_SERVICE_ID", 0) or 0)
    if service_id:
        tried = f"1 chamada ConsultarCadastroServico (nCodServ {service_id}) pelo throttle central"
    else:
        tried = "1 chamada ListarNFSEs (página 1, 1 registro) pelo throttle central"
    try:
        if service_id:
            service = get_omie_client().consultar_servico(n_cod_serv=service_id)
        else:
            page = get_omie_client().listar_nfses(pagina=1, registros_por_pagina=1)
    except OmieNotNow as exc:
        if exc.reason in _NOT_SENT_REASONS:
            return [report.add(name, WARNING, tried + " — não enviada: o throttle não permitiu agora",
                               f"{exc.message} (nova tentativa possível em {int(exc.retry_after or 0)} s)",
                               "Espere o throttle liberar (veja o estado acima) e verifique de novo.")]
        verdict = ERROR if exc.reason == "banned" else WARNING
        return [report.add(name, verdict, tried, f"Omie: {exc.message}",
                           "O Omie bloqueou ou limitou a app key: espere o tempo indicado; não insista (cada erro conta).")]
    except OmieBusinessError as exc:
        if "chave de acesso" in exc.message.lower() or exc.fault_code.endswith("Client-100"):
            return [report.add(name, ERROR, tried, f"Omie recusou as credenciais: {exc.message}", OMIE_KEYS_FIX)]
        return [report.add(name, ERROR, tried, f"Omie respondeu com erro: {exc.message}",
                           "Confira OMIE_BASE_URL (https://app.omie.com.br/api/v1/) e as permissões da app no Omie.")]
    except IntegrationError as exc:
        return [report.add(name, ERROR, tried, f"Omie inacessível: {exc.message}",
                           "Verifique OMIE_BASE_URL e a saída de rede do servidor para app.omie.com.br.")]
    if not service_id:
        return [report.add(name, OK, tried, f"credenciais aceitas ({page.total_de_registros} NFS-e na conta)")]
    keys = report.add(name, OK, tried, "credenciais aceitas")
    return [keys, _omie_service_found(report, service_id, tried, service)]


SERVICE_ITEM = "serviço das OS (OMIE_SERVICE_ID → nCodServico)"


def _omie_service_found(report: SystemReport, service_id: int, tried: str, service: dict[str, Any] | None) -> Item:
    if service is None:
        return report.add(SERVICE_ITEM, ERROR, tried, f"o Omie não tem o serviço {service_id}: toda OS seria recusada",
                          "Copie o código do serviço em Omie → Serviços → Cadastro de serviços (o serviço deve ter "
                          "código municipal, LC 116, NBS e tributação) e ajuste OMIE_SERVICE_ID; ou use "
                          "OMIE_SERVICE_MUNICIPAL_CODE.")
    head = service.get("cabecalho") or {}
    details = ", ".join(f"{label} {head[key]}" for key, label in (("cCodServMun", "código municipal"),
                        ("cCodLC116", "LC 116"), ("nIdNBS", "NBS"), ("cIdTrib", "tributação")) if head.get(key))
    return report.add(SERVICE_ITEM, OK, tried,
                      f"serviço {service_id} existe no Omie: {head.get('cDescricao') or 'sem descrição'}"
                      + (f" ({details})" if details else ""))


def _omie_service_mode(report: SystemReport) -> None:
    """Which way the OS service line is filled (OMIE_SERVICE_ID is checked by the one Omie call)."""
    if int(getattr(settings, "OMIE_SERVICE_ID", 0) or 0):
        return
    code = str(getattr(settings, "OMIE_SERVICE_MUNICIPAL_CODE", "") or "").strip()
    name = "serviço das OS (OMIE_SERVICE_MUNICIPAL_CODE → cCodServMun)"
    if not code:
        report.add(name, ERROR, "leitura da configuração", "nem OMIE_SERVICE_ID nem OMIE_SERVICE_MUNICIPAL_CODE: o Omie "
                   "recusaria toda OS (cCodServMun e cTribServ são obrigatórios sem nCodServico)",
                   "Defina OMIE_SERVICE_ID (recomendado: o serviço cadastrado no Omie) ou OMIE_SERVICE_MUNICIPAL_CODE.")
        return
    report.add(name, SKIPPED, "leitura da configuração; o Omie não tem leitura de códigos municipais para conferir",
               f"em uso: cCodServMun {code}, cTribServ {settings.OMIE_SERVICE_TAXATION} e o código LC 116 de cada pedido",
               "Recomendado: cadastre o serviço no Omie (código municipal, LC 116, NBS, tributação) e use OMIE_SERVICE_ID.")


def _omie_defaults(report: SystemReport) -> None:
    categoria = str(settings.OMIE_CODIGO_CATEGORIA or "")
    why = ("conferir no Omie custaria uma segunda chamada, e esta verificação gasta no máximo uma (usada nas "
           "chaves); o projeto não usa nenhuma leitura de categorias ou contas correntes")
    if not re.fullmatch(r"\d+(\.\d+)+", categoria):
        report.add("categoria padrão (OMIE_CODIGO_CATEGORIA)", ERROR, "leitura da configuração",
                   f"'{categoria}' não tem o formato de código de categoria do Omie (ex.: 1.01.02)",
                   "Copie o código da categoria de receita de serviços em Omie → Finanças → Categorias.")
    else:
        report.add("categoria padrão (OMIE_CODIGO_CATEGORIA)", SKIPPED, f"formato conferido; existência não: {why}",
                   f"{categoria} (formato válido)",
                   "Confira no Omie → Finanças → Categorias; o ensaio (OMIE_DRY_RUN) mostra cCodCateg em cada OS.")
    conta = int(settings.OMIE_CONTA_CORRENTE or 0)
    if not conta:
        report.add("conta corrente padrão (OMIE_CONTA_CORRENTE)", SKIPPED, "leitura da configuração",
                   "0: a OS vai sem nCodCC e o Omie usa a conta padrão da empresa",
                   "Para outra conta, copie o código (nCodCC) em Omie → Finanças → Contas correntes.")
    else:
        report.add("conta corrente padrão (OMIE_CONTA_CORRENTE)", SKIPPED, f"existência não conferida: {why}",
                   f"{conta}", "Confira o código em Omie → Finanças → Contas correntes.")


# Bubble -----------------------------------------------------------------------------------------
BUBBLE_BUILTIN_KEYS = {"_id", "_type", "Created Date", "Modified Date", "Created By", "Slug"}
TOKEN_FIX = ("Gere um token em Bubble → Settings → API → API Tokens e defina BUBBLE_API_TOKEN; confira também "
             "BUBBLE_BASE_URL (…/version-test/api/1.1 para desenvolvimento, …/api/1.1 para Live).")


def check_bubble(report: SystemReport, *, sample_order_id: str | None, patch: bool) -> None:
    if not settings.BUBBLE_BASE_URL or not settings.BUBBLE_API_TOKEN:
        report.add("token da Data API", ERROR, "nenhuma chamada", "BUBBLE_BASE_URL ou BUBBLE_API_TOKEN vazio", TOKEN_FIX)
        return
    client = get_bubble_client()
    for thing in ("order", "customer"):
        if not _bubble_type(report, client, thing, type_name(thing)):
            return  # a refused token fails every other call the same way
    if not sample_order_id:
        report.add("campos de um pedido de exemplo", SKIPPED, "nenhuma chamada: nenhum pedido de exemplo informado",
                   "—", "Informe o id de um pedido real (--bubble-order ID, ou o campo do formulário) para conferir os campos.")
        return
    order = _bubble_fields(report, client, "order", sample_order_id)
    if order is None:
        return

    customer_id = order.get(field_key("order", "cliente"))
    if isinstance(customer_id, str) and customer_id:
        _bubble_fields(report, client, "customer", customer_id)
    if patch:
        _bubble_patch(report, client, sample_order_id, order)
    else:
        report.add("escrita pela Data API (\"Modify via API\")", SKIPPED, "nenhuma escrita: não pedida",
                   "—", "Rode com --bubble-patch (ou marque a opção) para regravar o mesmo valor num campo do pedido.")


def _bubble_type(report: SystemReport, client: Any, thing: str, name: str) -> bool:
    label = "pedido" if thing == "order" else "cliente"
    item = f"token e tipo '{name}' ({label})"
    url = f"{client.base_url}/obj/{quote(name, safe='')}"
    tried = f"GET /obj/{name}?limit=1"
    try:
        response = send(client.session, "GET", url, timeout=client.timeout, params={"limit": 1},
                        headers={"Authorization": f"Bearer {client.token}"}, allow_redirects=False)
    except IntegrationError as exc:
        report.add(item, ERROR, tried, f"Bubble inacessível: {exc.message}", "Verifique BUBBLE_BASE_URL e a rede.")
        return False
    status = response.status_code
    body = json_or_none(response)
    message = ""
    if isinstance(body, dict) and isinstance(body.get("body"), dict):
        message = str(body["body"].get("message") or "")
    if status == 200:
        report.add(item, OK, tried, "HTTP 200: token aceito, tipo exposto na Data API")
        return True
    if status in (401, 403):
        report.add(item, ERROR, tried, f"HTTP {status}: o Bubble recusou o token{': ' + message if message else ''}", TOKEN_FIX)
        return False
    if status == 404:
        env = "BUBBLE_TYPE_ORDER" if thing == "order" else "BUBBLE_TYPE_CUSTOMER"
        report.add(item, ERROR, tried, f"HTTP 404: tipo '{name}' não encontrado",
                   f"Confira {env} (nome do tipo em minúsculas, sem espaços) e marque o tipo em Settings → API → "
                   "\"Enable Data API\" → tipos expostos.")
        return True
    report.add(item, ERROR, tried, f"HTTP {status}{': ' + message if message else ''}", "Verifique BUBBLE_BASE_URL.")
    return status not in (301, 302, 307, 308)


def _bubble_fields(report: SystemReport, client: Any, thing: str, bubble_id: str) -> dict[str, Any] | None:
    label = "pedido" if thing == "order" else "cliente"
    name = f"campos do {label} de exemplo"
    tried = f"GET /obj/{type_name(thing)}/{bubble_id}"  # type: ignore[arg-type]
    try:
        raw = client.get_thing(thing, bubble_id)
    except BubbleError as exc:
        report.add(name, ERROR, tried, exc.message,
                   "Informe o id (_id) de um pedido que existe nesta versão do app (version-test e Live têm dados separados).")
        return None
    except IntegrationError as exc:
        report.add(name, ERROR, tried, exc.message, "Verifique BUBBLE_BASE_URL e a rede.")
        return None
    reads, writes = (ORDER_READ, ORDER_WRITE) if thing == "order" else (CUSTOMER_READ, CUSTOMER_WRITE)
    read_keys = {field_key(thing, c): c for c in reads}  # type: ignore[arg-type]
    write_keys = {field_key(thing, c): c for c in writes}  # type: ignore[arg-type]
    if thing == "order" and getattr(settings, "BUBBLE_DRY_RUN_FIELD", ""):
        write_keys.setdefault(settings.BUBBLE_DRY_RUN_FIELD, settings.BUBBLE_DRY_RUN_FIELD)
    present = set(raw)
    missing_read = sorted(k for k in read_keys if k not in present)
    missing_write = sorted(k for k in write_keys if k not in present)
    unexpected = sorted(present - set(read_keys) - set(write_keys) - BUBBLE_BUILTIN_KEYS)
    got = [f"{len(present - BUBBLE_BUILTIN_KEYS)} campos lidos"]
    if missing_read:
        got.append(f"ausentes (o backend lê): {', '.join(missing_read)}")
    if missing_write:
        got.append(f"ausentes ou vazios (o backend escreve): {', '.join(missing_write)}")
    if unexpected:
        got.append(f"inesperados: {', '.join(unexpected)}")
    if missing_read:
        hints = _map_hints(thing, [read_keys[k] for k in missing_read], unexpected)
        report.add(name, ERROR, tried, "; ".join(got),
                   "Crie o campo no tipo do Bubble ou aponte a chave existente em BUBBLE_FIELD_MAP"
                   + (f", por exemplo BUBBLE_FIELD_MAP='{json.dumps(hints, ensure_ascii=False)}'" if hints else
                      " (JSON {\"campo\": \"chave no Bubble\"})")
                   + ". O Bubble omite campos vazios: preencha-os no pedido de exemplo.")
    elif missing_write:
        report.add(name, WARNING, tried, "; ".join(got),
                   "O Bubble omite campos vazios, então podem só estar vazios neste exemplo: confira que existem no tipo "
                   "com essas chaves (ou mapeie em BUBBLE_FIELD_MAP) e rode com --bubble-patch.")
    else:
        report.add(name, OK, tried, "; ".join(got))
    return raw


def _map_hints(thing: str, canonicals: list[str], unexpected: list[str]) -> dict[str, str]:
    """A renamed key is usually the canonical one plus a suffix/prefix (``valor_total_number``)."""
    hints: dict[str, str] = {}
    for canonical in canonicals:
        for key in unexpected:
            simple = key.lower().replace(" ", "_")
            if canonical in simple or simple.split("_")[0] == canonical.split("_")[0]:
                hints[f"{thing}.{canonical}"] = key
                break
    return hints


def _bubble_patch(report: SystemReport, client: Any, bubble_id: str, raw: dict[str, Any]) -> None:
    name = "escrita pela Data API (\"Modify via API\")"
    candidates = [field_key("order", c) for c in (*ORDER_WRITE, *ORDER_READ) if c != "cliente"]
    key = next((k for k in candidates if k in raw and raw[k] not in (None, "")), None)
    if key is None:
        report.add(name, WARNING, "nenhuma escrita: nenhum campo conhecido preenchido no pedido de exemplo", "—",
                   "Preencha um campo (ex.: descricao_servico) no pedido de exemplo e rode de novo.")
        return
    tried = f"PATCH /obj/…/{bubble_id} regravando o mesmo valor em '{key}'"
    try:
        client._request("PATCH", "order", bubble_id, data=dumps_exact({key: raw[key]}).encode(),
                        headers={"Content-Type": "application/json"})
    except IntegrationError as exc:
        report.add(name, ERROR, tried, exc.message,
                   "Em Data → Privacy, dê à regra do tipo a permissão \"Modify via API\" para o token (ou "
                   "\"Ignore privacy rules\" para tokens de admin) e confira a chave do campo.")
        return
    report.add(name, OK, tried, "HTTP 204: o Bubble aceitou a escrita (valor inalterado)")


# BrasilAPI ---------------------------------------------------------------------------------------
def check_brasilapi(report: SystemReport) -> None:
    cnpj = re.sub(r"\D", "", settings.INTEGRATIONS_CHECK_CNPJ or "")
    name = "alcance e consulta de um CNPJ conhecido"
    tried = "GET /cnpj/v1/<CNPJ de referência (INTEGRATIONS_CHECK_CNPJ)>"
    try:
        company = get_brasilapi_client().get_company(cnpj)
    except BrasilApiError as exc:
        limited = exc.status == 429
        report.add(name, WARNING if limited else ERROR, tried, exc.message,
                   "A BrasilAPI limita por IP: tente de novo em instantes." if limited else
                   "Verifique BRASILAPI_BASE_URL (https://brasilapi.com.br/api) e a saída de rede do servidor.")
        return
    except IntegrationError as exc:
        report.add(name, ERROR, tried, exc.message, "Verifique BRASILAPI_BASE_URL e a rede.")
        return
    if company is None:
        report.add(name, WARNING, tried, "HTTP 404: CNPJ de referência não encontrado",
                   "A BrasilAPI às vezes responde 404 por engano: rode de novo; se persistir, confira INTEGRATIONS_CHECK_CNPJ.")
        return
    report.add(name, OK, tried, f"HTTP 200: {company.get('razao_social') or 'empresa encontrada'}")


# Platform ----------------------------------------------------------------------------------------
def check_platform(report: SystemReport, *, sentry_test_event: bool) -> None:
    labels = {"database": "banco de dados (PostgreSQL)", "redis": "Redis", "broker": "broker do Celery",
              "beat": "batimento do beat", "workers": "workers consumindo a fila"}
    fixes = {"database": "Verifique DATABASE_URL e se o PostgreSQL está no ar.", "redis": "Verifique REDIS_URL.",
             "broker": "Verifique CELERY_BROKER_URL.",
             "beat": "Confirme que exatamente um processo beat está rodando (Procfile: beat) e 'setup_periodic_tasks' rodou.",
             "workers": "Confirme que os workers estão no ar e ligados ao broker (Flower, logs do worker; docs/reliability.md)."}
    for key, check in health.CHECKS.items():
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001
            result = {"status": "error", "message": type(exc).__name__}
        got = result.get("message") or (f"último batimento há {result['age_seconds']} s" if "age_seconds" in result else "respondeu")
        report.add(labels[key], OK if result["status"] == "ok" else ERROR, "a mesma verificação de /health/ready", got, fixes[key])
    _nfse_storage(report)
    _sentry(report, test_event=sentry_test_event)
    _flower(report)


def _sentry(report: SystemReport, *, test_event: bool) -> None:
    name = "Sentry (SENTRY_DSN)"
    dsn = settings.SENTRY_DSN
    if not dsn:
        report.add(name, SKIPPED if settings.SANDBOX else WARNING, "leitura da configuração", "SENTRY_DSN vazio: erros não vão ao Sentry",
                   "Copie o DSN do projeto no Sentry (Settings → Client Keys) para SENTRY_DSN.")
        return
    try:
        parsed = Dsn(dsn)
    except BadDsn as exc:
        report.add(name, ERROR, "leitura do DSN", f"DSN inválido: {exc}", "Copie o DSN de novo (https://<chave>@<host>/<projeto>).")
        return
    got = f"DSN válido (host {parsed.host}, projeto {parsed.project_id})"
    if not test_event:
        report.add(name, OK, "leitura do DSN (sem evento de teste)", got)
        return

    event_id = sentry_sdk.capture_message("Verificação de integrações: evento de teste do backoffice", level="info")
    sentry_sdk.flush(timeout=5)
    if event_id:
        report.add(name, OK, "leitura do DSN e envio de um evento de teste", f"{got}; evento {event_id} enviado — confira no Sentry")
    else:
        report.add(name, WARNING, "envio de um evento de teste", f"{got}; o SDK não está ativo neste processo",
                   "O Sentry só liga quando SENTRY_DSN está no ambiente ao iniciar o processo: reinicie-o.")


def _flower(report: SystemReport) -> None:
    name = "Flower (FLOWER_URL)"
    url = settings.FLOWER_URL
    if not url:
        report.add(name, WARNING, "leitura da configuração", "FLOWER_URL vazio", "Defina FLOWER_URL (o painel linka para ele).")
        return
    # Flower accepts several "user:password" pairs separated by commas: the first one logs in.
    user, sep, password = (settings.FLOWER_BASIC_AUTH or "").split(",")[0].strip().partition(":")
    tried = f"GET {url}" + (" com FLOWER_BASIC_AUTH" if sep else " sem credenciais")
    session = build_session("flower-check")
    try:
        response = send(session, "GET", url, timeout=(3.0, 5.0), auth=(user, password) if sep else None, allow_redirects=True)
    except IntegrationError as exc:
        report.add(name, ERROR, tried, exc.message, "Confirme que o Flower está rodando e FLOWER_URL aponta para ele.")
        return
    finally:
        session.close()
    if response.status_code == 200:
        report.add(name, OK, tried, "HTTP 200")
    elif response.status_code == 401:
        report.add(name, ERROR if sep else WARNING, tried, "HTTP 401: o Flower pediu credenciais",
                   "Defina FLOWER_BASIC_AUTH (usuário:senha) igual ao do processo Flower.")
    else:
        report.add(name, ERROR, tried, f"HTTP {response.status_code}", "Confira FLOWER_URL (e FLOWER_URL_PREFIX atrás do nginx).")


def _nfse_storage(report: SystemReport) -> None:
    """The NFS-e documents' storage (STORAGES["nfse_documents"]): a probe object written, read back and
    removed (the only delete anything does there); with S3, the bucket must exist first."""


    name = "armazenamento dos documentos das NFS-e"
    backend = settings.STORAGES.get("nfse_documents", {}).get("BACKEND", "")
    s3 = backend.endswith("S3Storage")
    fix = ("Confira NFSE_S3_BUCKET, NFSE_S3_ENDPOINT_URL e as credenciais (o bucket precisa existir)" if s3
           else "Confira NFSE_STORAGE_ROOT: a pasta precisa existir ou poder ser criada, com escrita para o usuário do app")
    try:
        storage = storages["nfse_documents"]
        if s3:
            storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
        probe = f"_verificacao/{uuid.uuid4().hex}.txt"
        saved = storage.save(probe, ContentFile(b"ok"))
        with storage.open(saved, "rb") as handle:
            readable = handle.read() == b"ok"
        storage.delete(saved)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        report.add(name, ERROR, "gravar, ler e apagar um arquivo de teste" + (" no bucket" if s3 else ""),
                   f"falhou ({type(exc).__name__})", fix)
        return
    where = f"bucket {settings.NFSE_S3_BUCKET}" if s3 else "sistema de arquivos"
    report.add(name, OK if readable else ERROR, "gravar, ler e apagar um arquivo de teste", f"{where}: gravável" if readable
               else f"{where}: o arquivo lido não é o gravado", "" if readable else fix)

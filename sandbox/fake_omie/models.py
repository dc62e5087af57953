"""The fake Omie's state. Everything lives in PostgreSQL, so any number of gunicorn workers and
threads agree on rate windows, in-flight calls, bans and records."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

CUSTOMER_ID_BASE = 2_400_000_000
OS_ID_BASE = 3_100_000_000
NFSE_NUMBER_BASE = 1000


class FakeOmieConfig(models.Model):
    """One row (pk=1). Every window is multiplied by ``time_scale`` so tests can run in seconds."""

    time_scale = models.FloatField("escala de tempo", default=1.0)
    latency_ms = models.PositiveIntegerField("latência (ms)", default=0)
    rate_limit_per_method = models.PositiveIntegerField("limite por método / 60 s", default=240)
    rate_limit_per_key = models.PositiveIntegerField("limite por app key / 60 s", default=960)
    write_concurrency = models.PositiveSmallIntegerField("escritas simultâneas por método", default=1)
    read_concurrency = models.PositiveSmallIntegerField("leituras simultâneas por método", default=4)
    redundant_seconds = models.FloatField("janela REDUNDANT (s)", default=60)
    ban_after_errors = models.PositiveSmallIntegerField("erros até o bloqueio", default=10)
    error_window_seconds = models.FloatField("janela de contagem de erros (s)", default=600)
    ban_seconds = models.FloatField("duração do bloqueio (s)", default=1800)
    nfse_delay_seconds = models.FloatField("tempo até a prefeitura responder (s)", default=5)
    rate_limits_on = models.BooleanField("limites de taxa (429)", default=True)
    concurrency_on = models.BooleanField("uma escrita por vez (Client-1880)", default=True)
    redundant_on = models.BooleanField("REDUNDANT", default=True)
    ban_on = models.BooleanField("bloqueio por erros (425)", default=True)
    reject_documents = models.JSONField("documentos com NFS-e rejeitada", default=list, blank=True)
    rejection_message = models.CharField(
        "mensagem de rejeição da prefeitura",
        max_length=255,
        default="E0314 - Inscrição municipal do prestador não confere com o cadastro da prefeitura.",
    )
    # Webhooks sent by the fake to this URL; blank = none are sent.
    # ObterNFSe's cXmlNFSe: the XML itself (as documented) or a link to it (unverified; both handled).
    nfse_xml_as_link = models.BooleanField("ObterNFSe devolve o XML como link", default=False)
    webhook_url = models.CharField("URL dos webhooks", max_length=500, blank=True)
    webhook_loss_rate = models.FloatField("fração de webhooks perdidos", default=0.0)
    webhook_duplicate_rate = models.FloatField("fração de webhooks entregues duas vezes", default=0.0)
    webhook_delay_seconds = models.FloatField("atraso de entrega (s)", default=0.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "configuração do Omie falso"
        verbose_name_plural = "configuração do Omie falso"

    def __str__(self) -> str:
        return f"Omie falso (escala {self.time_scale})"

    def scaled(self, seconds: float) -> float:
        return seconds * self.time_scale


class FakeCustomer(models.Model):
    # null: registered in Omie's own screens, without an integration code (Omie shows "[ ]")
    codigo_cliente_integracao = models.CharField(max_length=100, unique=True, null=True, blank=True)
    cnpj_cpf = models.CharField(max_length=20, db_index=True)  # compact, upper-case
    razao_social = models.CharField(max_length=120)
    nome_fantasia = models.CharField(max_length=120, blank=True)
    email = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "cliente (Omie falso)"
        verbose_name_plural = "clientes (Omie falso)"

    def __str__(self) -> str:
        return f"{self.codigo_cliente_omie} {self.razao_social}"

    @property
    def codigo_cliente_omie(self) -> int:
        return CUSTOMER_ID_BASE + self.pk


class FakeServiceOrder(models.Model):
    c_cod_int_os = models.CharField(max_length=100, unique=True)
    customer = models.ForeignKey(FakeCustomer, on_delete=models.PROTECT, related_name="orders")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    etapa = models.CharField(max_length=4, default="20")
    payload = models.JSONField(default=dict)
    faturada = models.BooleanField(default=False)
    billed_at = models.DateTimeField(null=True, blank=True)
    cancelada = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)  # "excluída no Omie": no call finds it any more
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ordem de serviço (Omie falso)"
        verbose_name_plural = "ordens de serviço (Omie falso)"

    def __str__(self) -> str:
        return f"OS {self.c_num_os} ({self.c_cod_int_os})"

    @property
    def n_cod_os(self) -> int:
        return OS_ID_BASE + self.pk

    @property
    def c_num_os(self) -> str:
        return f"{self.pk:015d}"


class FakeNfse(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Aguardando prefeitura"
        ISSUED = "issued", "Emitida"
        REJECTED = "rejected", "Rejeitada"
        CANCELLED = "cancelled", "Cancelada"

    service_order = models.OneToOneField(FakeServiceOrder, on_delete=models.CASCADE, related_name="nfse")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    number = models.PositiveIntegerField(null=True, blank=True)
    verification_code = models.CharField(max_length=20, blank=True)
    url = models.CharField(max_length=255, blank=True)
    message = models.CharField(max_length=255, blank=True)
    ready_at = models.DateTimeField()
    issued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    rps_number = models.PositiveIntegerField(default=0)
    # Earlier RPS of this OS that the city hall rejected (ReenviarOS sends a new one): StatusOS lists them.
    history = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "NFS-e (Omie falso)"
        verbose_name_plural = "NFS-e (Omie falso)"

    def __str__(self) -> str:
        return f"NFS-e {self.number or '-'} ({self.get_status_display()})"


class FakeOmieCall(models.Model):
    """Every request the fake received, as it answered it. ``finished_at`` null = still running."""

    app_key = models.CharField(max_length=16)  # a digest of the app key, never the key
    call = models.CharField(max_length=60)
    endpoint = models.CharField(max_length=60)
    ident = models.CharField(max_length=120, blank=True)
    param = models.JSONField(null=True, blank=True)
    processed = models.BooleanField(default=False)  # passed the rate/ban/concurrency/REDUNDANT gates
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    fault_code = models.CharField(max_length=80, blank=True)
    fault_string = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "chamada recebida (Omie falso)"
        verbose_name_plural = "chamadas recebidas (Omie falso)"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["app_key", "call", "received_at"], name="fakeomie_call_window"),
            models.Index(fields=["app_key", "received_at"], name="fakeomie_key_window"),
            models.Index(fields=["app_key", "call", "ident", "received_at"], name="fakeomie_ident_window"),
        ]

    def __str__(self) -> str:
        return f"{self.call} → {self.http_status}"


class FakeOmieBan(models.Model):
    app_key = models.CharField(max_length=16)
    call = models.CharField(max_length=60)
    until = models.DateTimeField()
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "bloqueio (Omie falso)"
        verbose_name_plural = "bloqueios (Omie falso)"
        constraints = [models.UniqueConstraint(fields=["app_key", "call"], name="fakeomie_one_ban_per_method")]

    def __str__(self) -> str:
        return f"{self.call} até {self.until:%H:%M:%S}"


class FakeOmieInjection(models.Model):
    """A forced answer for the next ``remaining`` calls of ``call`` (any call when blank)."""

    class Kind(models.TextChoices):
        BROKEN_RESPONSE = "broken_response", "500 Broken response"
        API_ERROR_8020 = "api_error_8020", "500 com OmieAPI-Error 8020"
        HTML_502 = "html_502", "502 página HTML"
        TRUNCATED = "truncated", "200 JSON truncado"
        EMPTY = "empty", "200 corpo vazio"
        CLIENT_1100 = "client_1100", "500 Client-1100"
        CLIENT_1880 = "client_1880", "500 Client-1880"
        REDUNDANT = "redundant", "500 REDUNDANT"
        RATE_LIMITED = "rate_limited", "429"
        BANNED = "banned", "425 MISUSE_API_PROCESS"
        BUSINESS = "business", "200 cCodStatus ≠ 0"
        SLOW = "slow", "atraso de N segundos"
        # Executes the call at once and answers N seconds later (the effect is visible before the answer).
        SLOW_ANSWER = "slow_answer", "executa e responde N segundos depois"

    call = models.CharField(max_length=60, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    remaining = models.PositiveIntegerField(default=1)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} × {self.remaining}"


class FakeOmieWebhook(models.Model):
    """One webhook message in the fake's delivery queue (one queue: Omie's is FIFO per endpoint)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Na fila"
        DELIVERED = "delivered", "Entregue (2xx)"
        LOST = "lost", "Perdido (simulado)"
        EXPIRED = "expired", "Desistido após 5 dias"

    topic = models.CharField(max_length=60)
    message_id = models.CharField(max_length=80, db_index=True)
    body = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    next_try_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    # After the main queue's 3 tries the message goes to the dead-letter queue (one try every 10 min).
    dead_letter = models.BooleanField(default=False)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "webhook enviado (Omie falso)"
        verbose_name_plural = "webhooks enviados (Omie falso)"
        ordering = ["id"]
        indexes = [models.Index(fields=["state", "id"], name="fakeomie_webhook_queue")]

    def __str__(self) -> str:
        return f"{self.topic} {self.message_id} ({self.get_state_display()})"

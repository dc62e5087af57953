from django.db import models
from django.db.models import Q
from django.utils import timezone

from integrations.bubble.fields import DecimalJSONDecoder, ExactJSONEncoder


class BubbleWriteback(models.Model):
    """One coalesced batch of field changes for one Bubble thing (docs/contract.md#bubble-writeback, the transactional outbox).

    Invariants (enforced by the partial unique indexes below, relied on by the services):
    - at most one PENDING row per thing: every new change is merged into it (newest value per key wins);
    - at most one SENDING row per thing: a PENDING row is claimed only while no SENDING row of the same
      thing exists, so a thing's changes reach Bubble one PATCH at a time, in the order they were made;
    - ``versions`` holds, per key, a number from one database sequence taken while the row was locked,
      i.e. the order in which the changes were applied; a re-send never writes a key older than one
      another row already carries.
    The row never references ``orders``: ``order_id`` is a plain number, so this app stays independent.
    """

    class Thing(models.TextChoices):
        ORDER = "order", "Pedido"
        CUSTOMER = "customer", "Cliente"

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pendente"
        SENDING = "SENDING", "Enviando"
        DONE = "DONE", "Entregue"
        DEAD = "DEAD", "Falha definitiva"

    thing = models.CharField("tipo", max_length=16, choices=Thing.choices)
    bubble_id = models.CharField("id no Bubble", max_length=64)
    fields = models.JSONField("campos", default=dict, encoder=ExactJSONEncoder, decoder=DecimalJSONDecoder)
    versions = models.JSONField("versões por campo", default=dict)
    status = models.CharField("situação", max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField("tentativas", default=0)
    next_attempt_at = models.DateTimeField("próxima tentativa", default=timezone.now)
    give_up_at = models.DateTimeField("desistir em")
    last_error = models.TextField("último erro", blank=True, default="")
    last_status_code = models.PositiveSmallIntegerField("último HTTP", null=True, blank=True)
    locked_until = models.DateTimeField("reservado até", null=True, blank=True)
    claim_token = models.UUIDField("reserva", null=True, blank=True, editable=False)
    order_id = models.BigIntegerField("pedido (id local)", null=True, blank=True, db_index=True)
    created_at = models.DateTimeField("criado em", default=timezone.now)
    updated_at = models.DateTimeField("atualizado em", default=timezone.now)
    delivered_at = models.DateTimeField("entregue em", null=True, blank=True)

    class Meta:
        verbose_name = "escrita no Bubble"
        verbose_name_plural = "escritas no Bubble"
        ordering = ["-id"]
        permissions = [("resend_bubblewriteback", "Pode reenviar escritas ao Bubble")]
        constraints = [
            models.UniqueConstraint(
                fields=["thing", "bubble_id"], condition=Q(status="PENDING"), name="bubble_wb_one_pending_per_thing"
            ),
            models.UniqueConstraint(
                fields=["thing", "bubble_id"], condition=Q(status="SENDING"), name="bubble_wb_one_sending_per_thing"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["PENDING", "SENDING", "DONE", "DEAD"]), name="bubble_wb_status_valid"
            ),
            models.CheckConstraint(condition=Q(thing__in=["order", "customer"]), name="bubble_wb_thing_valid"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="bubble_wb_due_idx"),
            models.Index(fields=["thing", "bubble_id"], name="bubble_wb_thing_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_thing_display()} {self.bubble_id} #{self.pk} ({self.get_status_display()})"

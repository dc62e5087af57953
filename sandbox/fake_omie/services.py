"""Control of the fake Omie for tests, benches and demos (also exposed as JSON under /_control/)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sandbox.fake_omie.gates import key_digest
from sandbox.fake_omie.handlers import compact_document
from sandbox.fake_omie.models import (
    FakeCustomer,
    FakeNfse,
    FakeOmieBan,
    FakeOmieCall,
    FakeOmieConfig,
    FakeOmieInjection,
    FakeOmieWebhook,
    FakeServiceOrder,
)

CONFIG_FIELDS = frozenset(f.name for f in FakeOmieConfig._meta.concrete_fields if f.name not in {"id", "updated_at"})


def fake_omie_config() -> FakeOmieConfig:
    config, _ = FakeOmieConfig.objects.get_or_create(pk=1)
    return config


def fake_omie_configure(**fields: Any) -> FakeOmieConfig:
    unknown = set(fields) - CONFIG_FIELDS
    if unknown:
        raise ValueError(f"unknown fake Omie settings: {sorted(unknown)}")
    config = fake_omie_config()
    for name, value in fields.items():
        setattr(config, name, value)
    config.full_clean()
    config.save()
    return config


@transaction.atomic
def fake_omie_reset(**fields: Any) -> FakeOmieConfig:
    """Forgets every record, call, ban and injection; settings back to Omie's, then ``fields``."""
    for model in (FakeOmieWebhook, FakeOmieInjection, FakeOmieBan, FakeOmieCall, FakeNfse, FakeServiceOrder, FakeCustomer, FakeOmieConfig):
        model.objects.all().delete()
    return fake_omie_configure(**fields)


def fake_omie_inject(*, kind: str, call: str = "", times: int = 1, seconds: float = 0) -> FakeOmieInjection:
    if kind not in FakeOmieInjection.Kind.values:
        raise ValueError(f"unknown injection kind {kind!r}")
    return FakeOmieInjection.objects.create(kind=kind, call=call, remaining=times, seconds=seconds)


def take_injection(call: str) -> FakeOmieInjection | None:
    """The forced answer for this call, if one is queued (each is used ``remaining`` times)."""
    with transaction.atomic():
        injection = (FakeOmieInjection.objects.select_for_update(skip_locked=True)
                     .filter(Q(call=call) | Q(call=""), remaining__gt=0).order_by("id").first())
        if injection is None:
            return None
        injection.remaining -= 1
        if injection.remaining:
            injection.save(update_fields=["remaining"])
        else:
            FakeOmieInjection.objects.filter(pk=injection.pk).delete()
        return injection


def fake_omie_ban(*, app_key: str, call: str, seconds: float) -> FakeOmieBan:
    """Bans ``call`` for ``seconds`` (real seconds, not scaled) as if 10 errors had happened."""
    now = timezone.now()
    ban, _ = FakeOmieBan.objects.update_or_create(
        app_key=key_digest(app_key), call=call, defaults={"until": now + timedelta(seconds=seconds), "started_at": now})
    return ban


def fake_omie_seed_customer(*, codigo_cliente_integracao: str, cnpj_cpf: str, razao_social: str, email: str = "") -> FakeCustomer:
    """A customer as if typed in Omie's UI: no validation (lets tests hold an invalid document).

    A blank ``codigo_cliente_integracao`` is a customer registered by hand, without one (the
    usual case at Blu): it is found again by its document."""
    data = {"codigo_cliente_integracao": codigo_cliente_integracao, "razao_social": razao_social, "cnpj_cpf": cnpj_cpf, "email": email}
    fields = {"cnpj_cpf": compact_document(cnpj_cpf), "razao_social": razao_social, "email": email, "data": data}
    if not codigo_cliente_integracao:
        customer, _ = FakeCustomer.objects.update_or_create(
            cnpj_cpf=compact_document(cnpj_cpf), codigo_cliente_integracao__isnull=True,
            defaults={**fields, "codigo_cliente_integracao": None},
        )
        return customer
    customer, _ = FakeCustomer.objects.update_or_create(codigo_cliente_integracao=codigo_cliente_integracao, defaults=fields)
    return customer


def fake_omie_cancel_nfse_directly(*, c_cod_int_os: str) -> FakeServiceOrder:
    """As if someone cancelled the NFS-e in Omie's own screen: the OS's NF is cancelled, NFSe.NotaCancelada sent."""
    from sandbox.fake_omie.handlers import nfse_cancel_and_notify, resolve_due_nfse

    config = fake_omie_config()
    order = FakeServiceOrder.objects.get(c_cod_int_os=c_cod_int_os)
    resolve_due_nfse(config, order_ids=[order.pk])
    with transaction.atomic():
        nfse_cancel_and_notify(config, order)
    return order


def fake_omie_delete_os_directly(*, c_cod_int_os: str) -> None:
    """As if someone deleted the OS in Omie's screen: OrdemServico.Excluida is sent; from then on every
    call by its keys answers "OS não cadastrada" (the row is kept, marked deleted, for the fake's admin)."""
    from sandbox.fake_omie.webhooks import os_event, webhook_emit

    config = fake_omie_config()
    with transaction.atomic():
        order = FakeServiceOrder.objects.select_for_update().get(c_cod_int_os=c_cod_int_os)
        order.deleted_at = timezone.now()
        order.save(update_fields=["deleted_at", "updated_at"])
        webhook_emit(config, "OrdemServico.Excluida", os_event(config, order))

from django.conf import settings

from common.periodic import Periodic, register

register(
    Periodic(
        name="Pedidos: retomar sincronizações paradas",
        task="orders.tasks.sweeps.order_sync_sweep",
        every_seconds=settings.ORDERS_SYNC_SWEEP_EVERY_SECONDS,
        description="Reenfileira pedidos 'Aguardando sincronização' cuja próxima tentativa passou (mensagem perdida, worker morto).",
    ),
    Periodic(
        name="Pedidos: limpar chaves de idempotência",
        task="orders.tasks.sweeps.idempotency_records_prune",
        every_seconds=3600,
        description="Apaga registros de Idempotency-Key com mais de 24 h.",
    ),
)

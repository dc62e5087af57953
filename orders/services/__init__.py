from orders.services.action_log import action_log_record, actor_for_bubble, actor_for_task
from orders.services.retry import order_retry
from orders.services.sweeps import order_sync_sweep_stuck
from orders.services.sync_chain import order_sync_continue, order_sync_enqueue, order_sync_next_step
from orders.services.sync_fetch import order_sync_fetch
from orders.services.sync_omie import order_sync_complete, order_sync_omie
from orders.services.sync_state import SyncOutcome, order_sync_fail
from orders.services.triggers import order_sync_trigger

__all__ = [
    "SyncOutcome",
    "action_log_record",
    "actor_for_bubble",
    "actor_for_task",
    "order_retry",
    "order_sync_complete",
    "order_sync_continue",
    "order_sync_enqueue",
    "order_sync_fail",
    "order_sync_fetch",
    "order_sync_next_step",
    "order_sync_omie",
    "order_sync_sweep_stuck",
    "order_sync_trigger",
]

from orders.services.action_log import action_log_record

__all__ = ["action_log_record"]

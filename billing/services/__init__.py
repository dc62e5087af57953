from billing.services.decision import order_billing_decide

__all__ = ["order_billing_decide"]

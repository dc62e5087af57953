"""Dates as the business reads them: in America/Sao_Paulo (the billing day, the sync's OS forecast)."""

from datetime import date
from zoneinfo import ZoneInfo

from django.utils import timezone

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def today_sp() -> date:
    """Today's date in America/Sao_Paulo, whatever the server's clock zone is."""
    return timezone.now().astimezone(SAO_PAULO).date()

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from sandbox.fake_omie.models import FakeOmieCall


def fake_omie_calls(*, call: str | None = None, since_id: int = 0) -> QuerySet[FakeOmieCall]:
    qs = FakeOmieCall.objects.filter(id__gt=since_id).order_by("id")
    return qs.filter(call=call) if call else qs


def fake_omie_call_dict(row: FakeOmieCall) -> dict[str, Any]:
    return {
        "id": row.id,
        "call": row.call,
        "endpoint": row.endpoint,
        "ident": row.ident,
        "param": row.param,
        "processed": row.processed,
        "http_status": row.http_status,
        "fault_code": row.fault_code,
        "fault_string": row.fault_string,
        "received_at": row.received_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }

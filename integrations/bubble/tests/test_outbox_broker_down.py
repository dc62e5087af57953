"""Nothing decided is lost when Redis (the broker) is down: the row commits, the sweep delivers it."""

import subprocess
import sys

import pytest

from integrations.bubble.models import BubbleWriteback
from integrations.bubble.services import writeback_deliver_due
from testsupport.processes import ROOT, subprocess_env

ORDER = "1671702337369x488321592367327900"

SCRIPT = f"""
import django
django.setup()
from django.db import transaction
from integrations.bubble.services import writeback_enqueue
with transaction.atomic():
    writeback_enqueue(thing="order", bubble_id="{ORDER}", fields={{"status_pedido": "Sincronizado"}})
print("committed")
"""


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_does_not_fail_the_caller_and_the_sweep_delivers_later(fake_bubble):
    fake_bubble.put_order(ORDER, cliente="c", valor_total=1)
    # A process whose Redis (broker) is unreachable: nothing listens on port 9.
    env = subprocess_env(REDIS_URL="redis://127.0.0.1:9/0", CELERY_BROKER_URL="redis://127.0.0.1:9/0", **fake_bubble.env)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert "committed" in done.stdout
    assert "could not publish the delivery task" in done.stderr  # logged, not raised
    row = BubbleWriteback.objects.get()
    assert row.status == BubbleWriteback.Status.PENDING

    assert writeback_deliver_due().delivered == 1
    assert fake_bubble.thing("order", ORDER)["status_pedido"] == "Sincronizado"

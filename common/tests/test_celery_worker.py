import pytest
from django.db import transaction
from django_celery_results.models import TaskResult

from common.tasks import ping
from testsupport.processes import wait_for


@pytest.mark.django_db(transaction=True)
def test_task_enqueued_on_commit_runs_on_a_real_worker_and_its_result_is_stored(celery_worker_process):
    celery_worker_process(queues="default")
    with transaction.atomic():
        ping.delay_on_commit("hello")
        # Nothing is published before the commit.
        assert not TaskResult.objects.exists()

    result = wait_for(lambda: TaskResult.objects.filter(task_name="common.tasks.ping", status="SUCCESS").first(), timeout=30)
    assert result.result == '"pong:hello"'
    assert result.worker  # extended results are on


@pytest.mark.django_db(transaction=True)
def test_task_enqueued_in_a_rolled_back_transaction_never_runs(celery_worker_process, redis_client):
    with pytest.raises(RuntimeError), transaction.atomic():
        ping.delay_on_commit("never")
        raise RuntimeError("rollback")
    assert redis_client.llen("default") == 0

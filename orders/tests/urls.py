"""The project's URLs plus a view that exists only to exercise the Idempotency-Key mixin."""

import time

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.idempotency import IdempotencyKeyMixin
from common.exceptions import ApplicationError
from config.urls import urlpatterns as project_urlpatterns
from orders.models import ActionLog
from orders.services import action_log_record


class CountingApi(IdempotencyKeyMixin, APIView):
    """Every run leaves one ActionLog row: the number of rows is the number of executions."""

    def post(self, request):
        body = request.data
        if body.get("refuse"):
            raise ApplicationError("recusado")
        time.sleep(float(body.get("sleep", 0)))
        action_log_record(actor="test", action="counting", outcome="ok", message=str(body.get("n", "")))
        return Response({"runs": ActionLog.objects.filter(action="counting").count(), "n": body.get("n")}, status=201)


urlpatterns = [path("v1/_test/counting/", CountingApi.as_view()), *project_urlpatterns]

handler404 = "common.exceptions.handler404"
handler500 = "common.exceptions.handler500"

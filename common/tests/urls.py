"""The project's URLs plus views that exist only to exercise error handling."""

from django.urls import path
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns


class ExplodingApi(APIView):
    def get(self, request):
        raise RuntimeError("boom: secret internals that must not leak")


urlpatterns = [path("v1/_test/explode/", ExplodingApi.as_view()), *project_urlpatterns]

handler404 = "common.exceptions.handler404"
handler500 = "common.exceptions.handler500"


def exploding_page(request):
    raise RuntimeError("boom: a page that breaks")


urlpatterns.insert(0, path("_test/explode-page/", exploding_page))

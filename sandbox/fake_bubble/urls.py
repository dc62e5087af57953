from django.urls import path

from sandbox.fake_bubble import views

app_name = "fake_bubble"

urlpatterns = [
    path("api/1.1/obj/<str:type_name>", views.search, name="search"),
    path("api/1.1/obj/<str:type_name>/<str:bubble_id>", views.thing, name="thing"),
    path("_control/", views.control, name="control"),
    path("_control/reset", views.control_reset, name="control-reset"),
    path("_control/things", views.control_thing, name="control-thing"),
    path("_control/patches", views.control_patches, name="control-patches"),
]

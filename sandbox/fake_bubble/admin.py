from django.contrib import admin
from django.http import HttpRequest

from sandbox.fake_bubble.models import FakePatch, FakeThing


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(FakeThing)
class FakeThingAdmin(_ReadOnly):
    """What the fake Bubble holds: in sandbox mode, where the writebacks can be seen landing."""

    list_display = ("type_name", "bubble_id", "modified_at")
    list_filter = ("type_name",)
    search_fields = ("=bubble_id",)


@admin.register(FakePatch)
class FakePatchAdmin(_ReadOnly):
    list_display = ("id", "type_name", "bubble_id", "status_code", "received_at")
    list_filter = ("type_name", "status_code")
    search_fields = ("=bubble_id",)

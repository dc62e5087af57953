from django.contrib import admin

from sandbox.fake_brasilapi.models import FakeCompany


@admin.register(FakeCompany)
class FakeCompanyAdmin(admin.ModelAdmin):
    """Companies the fake BrasilAPI knows; editable, so a demo can make a CNPJ inactive or add false 404s."""

    list_display = ("cnpj", "razao_social", "situacao_cadastral", "false_404_left")
    list_filter = ("situacao_cadastral",)
    search_fields = ("=cnpj", "razao_social")

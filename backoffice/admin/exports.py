"""Exportações in the admin (the job list and page; the export buttons are on the order and invoice lists)."""

from django.contrib import admin

from backoffice.exports import ExportJobAdmin
from billing.models import ExportJob

admin.site.register(ExportJob, ExportJobAdmin)

"""django.contrib.admin's app config with the project's admin site (common/admin_site.py).

Kept apart from the site itself: an app config module must not import models.
"""

from django.contrib.admin.apps import AdminConfig


class BluAdminConfig(AdminConfig):
    default_site = "common.admin_site.BluAdminSite"

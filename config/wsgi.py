from django.core.wsgi import get_wsgi_application

from config.settings_module import server_default

server_default()  # production unless DJANGO_SETTINGS_MODULE says otherwise (config/settings_module.py)

application = get_wsgi_application()

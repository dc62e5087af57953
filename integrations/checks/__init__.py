"""The go-live integration check: ``manage.py check_integrations`` and the admin page "Verificar
integrações" run the same ``integrations_check`` (service.py)."""

"""gunicorn's settings file (``gunicorn -c python:config.gunicorn``): its error and access logs go through
the project's logging config, so every line has the same UTC ISO 8601 timestamp as Django's and
Celery's. The access line has the path without the query string (no personal data in logs) and the
request id nginx passes on."""

from config.settings.logging import GUNICORN_LOGGING

logconfig_dict = GUNICORN_LOGGING
access_log_format = '%({x-forwarded-for}i)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}i)s'

"""Admin sessions end after SESSION_ABSOLUTE_SECONDS (8 h) from login, or SESSION_IDLE_SECONDS (1 h)
without a request, whichever comes first.

Django's session has one lifetime (SESSION_COOKIE_AGE, 14 days by default) and no idle limit. The
cookie's age is set to the absolute limit in settings; this middleware stores the login time and the
last request's time in the session and logs the user out when either limit has passed. The last-seen
time is written at most once a minute, so a busy page does not rewrite the session on every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

STARTED = "_session_started_at"
SEEN = "_session_seen_at"
SEEN_RESOLUTION_SECONDS = 60


@receiver(user_logged_in, dispatch_uid="session_timeout_start")
def _start_clock(sender: object, request: HttpRequest | None, **kwargs: object) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[STARTED] = request.session[SEEN] = time.time()


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            session = request.session
            started = session.get(STARTED)
            seen = session.get(SEEN)
            if started is None:  # a session from before this middleware: its clock starts now
                session[STARTED] = session[SEEN] = now
            elif now - started > settings.SESSION_ABSOLUTE_SECONDS or now - (seen or started) > settings.SESSION_IDLE_SECONDS:
                logout(request)  # flushes the session; the admin then shows its login page
            elif now - (seen or 0) >= SEEN_RESOLUTION_SECONDS:
                session[SEEN] = now
        return self.get_response(request)

"""Bubble Data API errors. Each says whether retrying can help (``permanent``)."""

from integrations.http import IntegrationError


class BubbleError(IntegrationError):
    """Any failure talking to Bubble; permanent unless a subclass says otherwise."""

    system = "bubble"
    permanent = True


class BubbleNotFound(BubbleError):
    """The thing does not exist (404, or 400 ``MISSING_DATA`` on older apps), or its type is not exposed."""

    permanent = True


class BubbleConfigError(BubbleError):
    """Our side is misconfigured (token missing/wrong, type not writable): fixing it needs a person."""

    permanent = True


class BubbleInvalidData(BubbleError):
    """Bubble answered, but a field we need is missing or of the wrong type (fix the data in Bubble)."""

    permanent = True


class BubbleTransientError(BubbleError):
    """429, 5xx, timeouts, broken bodies: retry later (``retry_after`` when Bubble said when)."""

    permanent = False

"""Links that came from another system are shown only when they are plain http(s) URLs.

Omie's NFS-e link (``cUrlNfse``) becomes a clickable link in the admin, the API's ``nf_url`` and
Bubble's ``nf_link``: a ``javascript:`` (or ``data:``, ``vbscript:``…) value would run in whoever
clicks it. Anything else is kept out of links (the admin shows the number as text).
"""

from __future__ import annotations

from urllib.parse import urlsplit


def http_url_or_empty(value: object) -> str:
    """``value`` when it is an absolute http(s) URL with a host and no control characters, else ''."""
    text = str(value or "").strip()
    if not text or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return ""
    return text

"""The client's address, the one rule for throttling (DRF), lockouts (django-axes) and the webhook refusals.

``X-Forwarded-For`` is believed only when the TCP peer (``REMOTE_ADDR``) is one of the proxies in
``TRUSTED_PROXIES`` (addresses or CIDRs: nginx, the load balancer). Then the client is the rightmost
entry that is not itself a trusted proxy: every trusted hop appends the address it saw, so what lies
left of the last untrusted entry was written by the client and is ignored. Straight to gunicorn
(second security review), a client's peer address is not a trusted proxy and its ``X-Forwarded-For``,
rotated on every call, buys nothing.

Behind a load balancer, nginx's ``real_ip`` module (``NGINX_REAL_IP_FROM``, docs/deploying.md) puts
the client's address in ``$remote_addr`` first, so nginx's own limits and this rule both see the
client, never the balancer's one shared address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: tuple[str, ...] | list[str]) -> tuple[Network, ...]:
    """``["10.0.0.0/8", "127.0.0.1"]`` → networks; raises ValueError naming a value that is neither."""
    networks = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueError(f"not an IP address or CIDR: {text!r}") from exc
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted_networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def _address(value: object) -> Address | None:
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket (::ffff:203.0.113.7) is that IPv4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(request: Any) -> str | None:
    """The client's address, normalised, or None when the peer's is not an address at all."""
    meta = getattr(request, "META", {})
    peer = _address(meta.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    networks = _trusted_networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if not _is_trusted(peer, networks):
        return str(peer)
    client = peer
    for entry in reversed(str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")):
        if not entry.strip():
            continue
        address = _address(entry)
        if address is None:
            break  # not written by a proxy we trust: keep the last trusted hop's view
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)


def client_ip(request: Any) -> str:
    """``client_address`` as text ('' when unknown): django-axes' AXES_CLIENT_IP_CALLABLE and the DRF throttle's key."""
    return client_address(request) or ""

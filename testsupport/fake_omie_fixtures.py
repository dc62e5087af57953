"""Pytest fixtures for code that talks to Omie: the fake Omie over real HTTP (a plugin of the root conftest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testsupport.fake_omie import FakeOmie


@pytest.fixture
def fake_omie(live_server, settings) -> Iterator[FakeOmie]:
    """The fake Omie served over real HTTP by the live server, with the client pointed at it."""
    fake = FakeOmie(live_server.url)
    fake.point_settings(settings)
    fake.reset()
    yield fake
    from integrations.omie.client import close_clients

    close_clients()  # keep-alive connections would keep live-server threads (and their DB sessions) open


class _CurrentClient:
    """The client for the settings in force at each use, so a test may change settings after
    taking the fixture."""

    def __getattr__(self, name: str):
        from integrations.omie.client import get_omie_client

        return getattr(get_omie_client(), name)


@pytest.fixture
def omie(fake_omie):
    return _CurrentClient()

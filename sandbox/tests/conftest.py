"""The order tests' sandbox (fake Omie, Bubble and BrasilAPI over a live server) for the demo test."""

from orders.tests.conftest import sandbox  # noqa: F401

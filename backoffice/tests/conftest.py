"""The order tests' sandbox (fake Omie, Bubble and BrasilAPI over a live server) for the end-to-end metrics test."""

from orders.tests.conftest import sandbox  # noqa: F401

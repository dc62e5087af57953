"""Fixtures of the NFS-e document tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def nfse_files(settings, tmp_path) -> Any:
    """The documents' storage on the filesystem under a temporary folder (the default backend)."""
    settings.STORAGES = {**settings.STORAGES, "nfse_documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "nfse")}}}
    settings.NFSE_ARCHIVE_RETRY_BASE_SECONDS = 0.0
    settings.NFSE_LINK_BASE_URL = "http://testserver"
    return tmp_path / "nfse"

"""check_integrations: the NFS-e documents' storage is writable; with S3 settings, the bucket exists."""

from __future__ import annotations

import boto3
import pytest

from billing.tests.nfse.support import moto_server
from config.settings import nfse_documents as nfse_settings
from integrations.checks.service import integrations_check

NAME = "Plataforma (banco, Redis, broker, beat, Sentry, Flower)/armazenamento dos documentos das NFS-e"
pytestmark = pytest.mark.django_db


def _item(settings_obj):
    report = integrations_check(only=("plataforma",))
    return {f"{s.system}/{i.name}": i for s in report.systems for i in s.items}[NAME]


def _filesystem(settings, location: str) -> None:
    settings.STORAGES = {**settings.STORAGES, "nfse_documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": location}}}


def test_a_writable_folder_is_ok_and_the_probe_is_removed(settings, tmp_path):
    _filesystem(settings, str(tmp_path / "nfse"))
    item = _item(settings)
    assert item.verdict == "ok" and "gravável" in item.got
    assert not [p for p in (tmp_path / "nfse").rglob("*") if p.is_file()]


def test_a_folder_that_cannot_be_written_is_an_error_with_its_fix(settings, tmp_path):
    blocker = tmp_path / "arquivo"
    blocker.write_text("não é pasta")
    _filesystem(settings, str(blocker / "nfse"))
    item = _item(settings)
    assert item.verdict == "error" and "NFSE_STORAGE_ROOT" in item.fix


def test_with_s3_a_missing_bucket_is_an_error_and_an_existing_one_is_ok(settings, monkeypatch):
    with moto_server() as url:
        for name, value in {"NFSE_S3_BUCKET": "nfse-check", "NFSE_S3_ENDPOINT_URL": url, "NFSE_S3_ACCESS_KEY_ID": "k",
                            "NFSE_S3_SECRET_ACCESS_KEY": "s"}.items():
            monkeypatch.setattr(nfse_settings, name, value)
            setattr(settings, name, value)
        settings.STORAGES = {**settings.STORAGES, "nfse_documents": nfse_settings.nfse_storage_setting("s3")}
        missing = _item(settings)
        assert missing.verdict == "error" and "NFSE_S3_BUCKET" in missing.fix
        boto3.client("s3", endpoint_url=url, aws_access_key_id="k", aws_secret_access_key="s",
                     region_name="us-east-1").create_bucket(Bucket="nfse-check")
        assert _item(settings).verdict == "ok"

"""The same archive and link against a real S3-compatible HTTP server (moto's standalone server,
started here on a free port), through the django-storages settings production uses (NFSE_STORAGE=s3)."""

from __future__ import annotations

import hashlib

import boto3
import pytest

from billing.models import NfseDocument
from billing.tests.conftest import processed
from billing.tests.nfse.support import archive_now, issued_order, moto_server
from config.settings import nfse_documents as nfse_settings

pytestmark = pytest.mark.django_db(transaction=True)
BUCKET = "blu-nfse-test"


@pytest.fixture(scope="module")
def s3_server():
    with moto_server() as url:
        yield url


@pytest.fixture
def s3_storage(s3_server, settings, monkeypatch):
    monkeypatch.setattr(nfse_settings, "NFSE_S3_BUCKET", BUCKET)
    monkeypatch.setattr(nfse_settings, "NFSE_S3_ENDPOINT_URL", s3_server)
    monkeypatch.setattr(nfse_settings, "NFSE_S3_ACCESS_KEY_ID", "test-key")
    monkeypatch.setattr(nfse_settings, "NFSE_S3_SECRET_ACCESS_KEY", "test-secret")
    s3 = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="test-key", aws_secret_access_key="test-secret",
                      region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {**settings.STORAGES, "nfse_documents": nfse_settings.nfse_storage_setting("s3")}
    settings.NFSE_LINK_BASE_URL = "http://testserver"
    settings.NFSE_ARCHIVE_RETRY_BASE_SECONDS = 0.0
    return s3


def test_documents_go_to_the_bucket_verified_and_the_link_serves_them(fake_omie, s3_storage, client):
    order = issued_order()
    archive = archive_now(order)
    assert archive.status == "DONE", archive.last_error
    assert processed(fake_omie, "ObterNFSe") == 1
    pdf = NfseDocument.objects.get(archive=archive, kind="PDF")
    stored = s3_storage.get_object(Bucket=BUCKET, Key=f"nfse/{pdf.storage_key}")
    body = stored["Body"].read()
    assert hashlib.sha256(body).hexdigest() == pdf.sha256 and body.startswith(b"%PDF-")
    assert stored["ContentType"] == "application/pdf"
    response = client.get(f"/nf/{pdf.token}")
    assert response.status_code == 200 and response.content == body


def test_an_object_is_never_overwritten(s3_storage, db):
    from datetime import date

    from billing.services.nfse_storage import object_put, object_read

    first = object_put(invoice_id=990001, issued_on=date(2026, 11, 25), kind="PDF", content=b"%PDF-1.4 a")
    again = object_put(invoice_id=990001, issued_on=date(2026, 11, 25), kind="PDF", content=b"%PDF-1.4 a")
    other = object_put(invoice_id=990001, issued_on=date(2026, 11, 25), kind="PDF", content=b"%PDF-1.4 b")
    assert first == again and other.key != first.key
    assert object_read(first.key) == b"%PDF-1.4 a" and object_read(other.key) == b"%PDF-1.4 b"
    keys = [o["Key"] for o in s3_storage.list_objects_v2(Bucket=BUCKET, Prefix="nfse/2026/990001/")["Contents"]]
    assert sorted(keys) == sorted([f"nfse/{first.key}", f"nfse/{other.key}"])

"""NFS-e documents (docs/nfse_documents.md): where the PDF and XML of every invoice are kept, for how
long, how they are fetched from Omie's links, and the customer's link to them.

Storage goes through django-storages: the filesystem under ``var/`` by default, any S3-compatible
bucket (AWS S3, MinIO…) with ``NFSE_STORAGE=s3``. Objects are never overwritten (content-addressed
keys, ``file_overwrite=False``) and nothing in the product deletes them.
"""

from config.env import BASE_DIR, env

# STORAGE
# ------------------------------------------------------------------------------
NFSE_STORAGE = env.str("NFSE_STORAGE", default="filesystem")  # filesystem | s3
NFSE_STORAGE_ROOT = env.str("NFSE_STORAGE_ROOT", default=str(BASE_DIR / "var" / "nfse"))
# https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html#settings
NFSE_S3_BUCKET = env.str("NFSE_S3_BUCKET", default="")
NFSE_S3_ENDPOINT_URL = env.str("NFSE_S3_ENDPOINT_URL", default="")  # MinIO / other S3-compatible; empty = AWS
NFSE_S3_REGION = env.str("NFSE_S3_REGION", default="us-east-1")
NFSE_S3_ACCESS_KEY_ID = env.str("NFSE_S3_ACCESS_KEY_ID", default="")
NFSE_S3_SECRET_ACCESS_KEY = env.str("NFSE_S3_SECRET_ACCESS_KEY", default="")
NFSE_S3_PREFIX = env.str("NFSE_S3_PREFIX", default="nfse")


def nfse_storage_setting(kind: str) -> dict:
    """The ``STORAGES["nfse_documents"]`` entry for ``kind`` (filesystem | s3)."""
    if kind == "s3":
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": NFSE_S3_BUCKET,
                "endpoint_url": NFSE_S3_ENDPOINT_URL or None,
                "region_name": NFSE_S3_REGION,
                "access_key": NFSE_S3_ACCESS_KEY_ID or None,
                "secret_key": NFSE_S3_SECRET_ACCESS_KEY or None,
                "location": NFSE_S3_PREFIX,
                # Never replace an object: a second write of one key gets a new name (and the
                # archive refuses to record it; see billing/services/nfse_storage.py).
                "file_overwrite": False,
                "default_acl": None,
                "querystring_auth": True,
                "addressing_style": "path",  # MinIO and most S3-compatible servers
                "signature_version": "s3v4",
            },
        }
    return {"BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": NFSE_STORAGE_ROOT, "file_permissions_mode": 0o440, "directory_permissions_mode": 0o750}}


NFSE_DOCUMENTS_STORAGE = nfse_storage_setting(NFSE_STORAGE)

# RETENTION
# ------------------------------------------------------------------------------
# Fiscal documents are kept this many years from issue; nothing in the product deletes them before.
NFSE_RETENTION_YEARS = env.int("NFSE_RETENTION_YEARS", default=5)

# FETCHING (ObterNFSe, then the PDF / XML links it returns)
# ------------------------------------------------------------------------------
NFSE_DOWNLOAD_MAX_BYTES = env.int("NFSE_DOWNLOAD_MAX_BYTES", default=10 * 1024 * 1024)
NFSE_DOWNLOAD_CONNECT_TIMEOUT = env.float("NFSE_DOWNLOAD_CONNECT_TIMEOUT", default=5.0)
NFSE_DOWNLOAD_READ_TIMEOUT = env.float("NFSE_DOWNLOAD_READ_TIMEOUT", default=30.0)
# Failed tries (Omie, a link answering HTML, a timeout) before the invoice is flagged for ops.
NFSE_ARCHIVE_MAX_ATTEMPTS = env.int("NFSE_ARCHIVE_MAX_ATTEMPTS", default=6)
NFSE_ARCHIVE_RETRY_BASE_SECONDS = env.float("NFSE_ARCHIVE_RETRY_BASE_SECONDS", default=30.0)
NFSE_ARCHIVE_RETRY_MAX_SECONDS = env.float("NFSE_ARCHIVE_RETRY_MAX_SECONDS", default=3600.0)
# How long one worker owns an archive job (longer than a task's hard limit).
NFSE_ARCHIVE_LEASE_SECONDS = env.float("NFSE_ARCHIVE_LEASE_SECONDS", default=300.0)
# Backfill (manage.py nfse_archive): ObterNFSe calls per minute at most, so billing keeps its budget.
NFSE_BACKFILL_PER_MINUTE = env.int("NFSE_BACKFILL_PER_MINUTE", default=60)

# THE CUSTOMER'S LINK
# ------------------------------------------------------------------------------
# The public address of this app: Bubble's nf_link / nf_xml_link are <this>/nf/<token>.
NFSE_LINK_BASE_URL = env.str("NFSE_LINK_BASE_URL", default=env.str("SANDBOX_BASE_URL", default="http://127.0.0.1:8000")).rstrip("/")
# Requests per client address per minute on /nf/… (right or wrong token alike).
NFSE_LINK_RATE_PER_MINUTE = env.int("NFSE_LINK_RATE_PER_MINUTE", default=30)

# E-MAIL TO THE CUSTOMER (Omie's own, through IncluirOS's Email block)
# ------------------------------------------------------------------------------
# Off until go-live decides: on, every new OS asks Omie to e-mail the NFS-e link to the customer.
OMIE_SEND_NFSE_EMAIL = env.bool("OMIE_SEND_NFSE_EMAIL", default=False)

"""Where NFS-e documents live: the ``nfse_documents`` storage of STORAGES (django-storages).

Objects are content-addressed inside the invoice's folder (``<year>/<invoice id>/<sha256>.<ext>``),
so the same bytes always land on the same key and different bytes never share one: an object is
never overwritten. What was written is read back and hashed before the caller records it, so a
document row always names a complete, verified object.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

STORAGE_ALIAS = "nfse_documents"
EXTENSIONS = {"PDF": "pdf", "XML": "xml"}


class StorageIntegrityError(Exception):
    """The storage holds other bytes under a content-addressed key, or did not keep what was written."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int


def nfse_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def object_key(*, invoice_id: int, issued_on: date, kind: str, sha256: str) -> str:
    return f"{issued_on:%Y}/{invoice_id}/{sha256}.{EXTENSIONS[kind]}"


def object_put(*, invoice_id: int, issued_on: date, kind: str, content: bytes) -> StoredObject:
    """Stores ``content`` once (an existing object with the same hash is reused, never replaced)."""
    digest = sha256_of(content)
    key = object_key(invoice_id=invoice_id, issued_on=issued_on, kind=kind, sha256=digest)
    storage = nfse_storage()
    if not storage.exists(key):
        saved = storage.save(key, ContentFile(content))
        if saved != key:
            # Someone else wrote the key meanwhile; the storage kept theirs and named ours apart.
            raise StorageIntegrityError(f"o armazenamento gravou {saved} em vez de {key}")
    if sha256_of(object_read(key)) != digest:
        raise StorageIntegrityError(f"o objeto {key} não tem o SHA-256 esperado")
    return StoredObject(key=key, sha256=digest, size=len(content))


def object_read(key: str) -> bytes:
    with nfse_storage().open(key, "rb") as handle:
        return handle.read()

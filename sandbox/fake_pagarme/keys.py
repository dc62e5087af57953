"""The fake Pagar.me's RSA signing key: generated at first use under SANDBOX_PAGARME_KEY_DIR (var/, never
committed), shared by every process of the sandbox (web, worker, the sender command) through that file.

``key_rotate()`` replaces it (the JWKS then serves only the new one), as Pagar.me does when it rotates.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from jwt.algorithms import RSAAlgorithm

_RS256 = RSAAlgorithm(RSAAlgorithm.SHA256)


def _path() -> Path:
    return Path(settings.SANDBOX_PAGARME_KEY_DIR) / "signing-key.pem"


def _generate() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _write(pem: bytes, *, replace: bool) -> None:
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.chmod(tmp, 0o600)
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # first one wins when two processes generate at once
            except FileExistsError:
                pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def private_key() -> rsa.RSAPrivateKey:
    path = _path()
    if not path.exists():
        _write(_generate(), replace=False)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def key_rotate() -> str:
    """A new key pair replaces the current one; returns the new kid."""
    _write(_generate(), replace=True)
    return kid_of(private_key())


def kid_of(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sbx_" + hashlib.sha256(der).hexdigest()[:20]


def jwks() -> dict[str, Any]:
    key = private_key()
    entry = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    entry.update(kid=kid_of(key), use="sig", alg="RS256")
    return {"keys": [entry]}


def sign(body: bytes, *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None) -> str:
    """The ``X-Webhook-Asymmetric-Signature`` value for ``body`` (the sandbox sender and tests use it)."""
    key = key or private_key()
    signature = base64.urlsafe_b64encode(_RS256.sign(body, key)).rstrip(b"=").decode()
    return f"alg=RS256; kid={kid or kid_of(key)}; signature={signature}"


def new_private_key() -> rsa.RSAPrivateKey:
    """A key that is in no JWKS (tests: "a key from another JWKS")."""
    return serialization.load_pem_private_key(_generate(), password=None)  # type: ignore[return-value]

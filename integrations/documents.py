"""CPF / CNPJ: validation, kind and display masking (docs/contract.md#the-order).

Validation is python-stdnum's (2.2+ knows the alphanumeric CNPJ of IN RFB 2.229/2024). A document
is stored as compact upper-case text: 11 digits (CPF) or 14 characters, 12 ``[0-9A-Z]`` plus two
numeric check digits (CNPJ) — never as an integer, which would drop leading zeros and letters.
Messages are Portuguese (they reach ``erro_integracao`` in Bubble) and never echo the document.
"""

from __future__ import annotations

from typing import Literal

from stdnum.br import cnpj, cpf
from stdnum.exceptions import ValidationError

DocumentKind = Literal["PF", "PJ"]


class InvalidDocument(ValueError):
    """The CPF/CNPJ is malformed or its check digits are wrong (a business error: never retried)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def document_compact(raw: str) -> str:
    """Separators and spaces removed, upper-cased; no validation."""
    return cnpj.compact(raw or "")


def document_validate(raw: str) -> tuple[str, DocumentKind]:
    """Returns the compact document and its kind, or raises ``InvalidDocument``."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidDocument("Documento (CPF/CNPJ) não informado.")
    number = document_compact(raw)
    if len(number) == 11 and number.isdigit():
        kind: DocumentKind = "PF"
        label, module = "CPF", cpf
    elif len(number) == 14:
        kind, label, module = "PJ", "CNPJ", cnpj
    else:
        raise InvalidDocument("Documento inválido: um CPF tem 11 dígitos e um CNPJ tem 14 caracteres.")
    # stdnum accepts repeated-digit CPFs such as 111.111.111-11 (their check digits add up); the
    # Receita never issues them, and they are the usual placeholder typed into forms.
    if len(set(number)) == 1:
        raise InvalidDocument(f"{label} inválido: todos os dígitos são iguais.")
    try:
        module.validate(number)
    except ValidationError as exc:
        reason = "dígito verificador não confere" if type(exc).__name__ == "InvalidChecksum" else "formato inválido"
        raise InvalidDocument(f"{label} inválido: {reason}.") from exc
    return number, kind


def document_kind(doc: str) -> DocumentKind:
    """PF or PJ of a (valid or compact) document; raises ``InvalidDocument`` when it is neither."""
    return document_validate(doc)[1]


def document_format(doc: str) -> str:
    """The punctuated form Omie shows and echoes (``39.330.543/0001-02``); unchanged when invalid."""
    number = document_compact(doc or "")
    if len(number) == 11 and cpf.is_valid(number):
        return cpf.format(number)
    if len(number) == 14 and cnpj.is_valid(number):
        return cnpj.format(number)
    return number


def document_mask(doc: str) -> str:
    """A display form that hides most of the number: ``***.456.789-**`` / ``**.345.678/0001-**``.

    Never raises: anything that is not a recognisable document is fully masked.
    """
    number = document_compact(doc or "")
    if len(number) == 11:
        return f"***.{number[3:6]}.{number[6:9]}-**"
    if len(number) == 14:
        return f"**.{number[2:5]}.{number[5:8]}/{number[8:12]}-**"
    return "*" * min(len(number), 14) if number else ""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime


@dataclass(frozen=True)
class CompanyData:
    """A company as the rest of the project sees it: normalised, empty strings as None."""

    cnpj: str
    razao_social: str | None
    nome_fantasia: str | None
    situacao_cadastral: str | None  # "ATIVA", "BAIXADA", "INAPTA", "SUSPENSA", "NULA"
    is_active: bool
    email: str | None
    phone: str | None
    cep: str | None
    logradouro: str | None
    numero: str | None
    complemento: str | None
    bairro: str | None
    municipio: str | None
    uf: str | None
    fetched_at: datetime
    # The city's IBGE code (BrasilAPI's codigo_municipio_ibge): sent to Omie as cidade_ibge. Last and
    # defaulted so records cached before it existed still load.
    codigo_municipio_ibge: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["fetched_at"] = self.fetched_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompanyData:
        fetched_at = parse_datetime(data["fetched_at"])
        assert fetched_at is not None
        return cls(**{**data, "fetched_at": fetched_at})

import pytest

from integrations.documents import InvalidDocument, document_kind, document_mask, document_validate


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("390.533.447-05", ("39053344705", "PF")),
        (" 39053344705 ", ("39053344705", "PF")),
        ("11.222.333/0001-81", ("11222333000181", "PJ")),
        ("11222333000181", ("11222333000181", "PJ")),
        ("12.ABC.345/01DE-35", ("12ABC34501DE35", "PJ")),  # alphanumeric CNPJ (IN RFB 2.229/2024)
        ("12.abc.345/01de-35", ("12ABC34501DE35", "PJ")),  # stored upper-case
        ("00.000.000/0001-91", ("00000000000191", "PJ")),  # leading zeros kept: text, never an integer
    ],
)
def test_valid_documents_are_compacted_upper_case_with_their_kind(raw, expected):
    assert document_validate(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("390.533.447-06", "CPF inválido: dígito verificador"),
        ("11.222.333/0001-82", "CNPJ inválido: dígito verificador"),
        ("12.ABC.345/01DE-36", "CNPJ inválido: dígito verificador"),
        ("111.111.111-11", "todos os dígitos são iguais"),
        ("00.000.000/0000-00", "todos os dígitos são iguais"),
        ("1234", "um CPF tem 11 dígitos e um CNPJ tem 14"),
        ("390.533.447-0", "um CPF tem 11 dígitos e um CNPJ tem 14"),
        ("", "não informado"),
        ("   ", "não informado"),
        ("12.ABC.345/01DE-3X", "CNPJ inválido"),
        ("3905334470A", "um CPF tem 11 dígitos e um CNPJ tem 14"),
        ("12#ABC345/01DE-35", "um CPF tem 11 dígitos e um CNPJ tem 14"),
    ],
)
def test_invalid_documents_raise_a_portuguese_message_without_the_number(raw, fragment):
    with pytest.raises(InvalidDocument) as caught:
        document_validate(raw)
    assert fragment in caught.value.message
    assert isinstance(caught.value, ValueError)
    digits = "".join(c for c in raw if c.isalnum())
    if len(digits) >= 8:
        assert digits not in caught.value.message


def test_a_non_string_is_invalid_not_a_crash():
    with pytest.raises(InvalidDocument):
        document_validate(None)  # type: ignore[arg-type]


def test_document_kind():
    assert document_kind("39053344705") == "PF"
    assert document_kind("12ABC34501DE35") == "PJ"
    with pytest.raises(InvalidDocument):
        document_kind("123")


def test_document_mask_hides_the_identifying_digits():
    assert document_mask("123.456.789-09") == "***.456.789-**"
    assert document_mask("11222333000181") == "**.222.333/0001-**"
    assert document_mask("12ABC34501DE35") == "**.ABC.345/01DE-**"
    assert document_mask("") == ""
    assert document_mask("abc") == "***"

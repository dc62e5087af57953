"""The RS256 header and Basic credentials, without the network (the JWKS path is in billing/tests/test_pagarme_v5.py)."""

import base64

import pytest

from integrations.pagarme.webhook_auth import _basic, signature_header_parse


@pytest.mark.parametrize("header", [
    "alg=RS256; kid=abc; signature=AbC-_9",
    "alg=RS256;kid=abc;signature=AbC+/9==",
    "  KID=abc ; ALG=RS256 ; Signature=AbC  ",
])
def test_well_formed_headers_parse(header):
    parts = signature_header_parse(header)
    assert parts is not None and parts["kid"] == "abc" and parts["alg"] == "RS256"


@pytest.mark.parametrize("header", [
    "alg=RS256; kid=abc; signature=abc; extra=1",
    "t=1700000000; alg=RS256; kid=abc; v=2; signature=abc;",
])
def test_unknown_extra_parameters_are_ignored_as_pagarmes_module_does(header):
    assert signature_header_parse(header) == {"alg": "RS256", "kid": "abc", "signature": "abc"}


@pytest.mark.parametrize("header", [
    "alg=RS256; kid=abc",                                   # no signature
    "alg=RS256; kid=abc; signature=",                       # empty signature
    "alg=RS256; kid=abc; signature=a; signature=b",         # repeated
    "alg=RS256; kid=abc; signature=abc; t",                 # a part that is not name=value
    "alg=RS256; kid=abc; signature=abc; a b=1",             # a parameter name that is not a token
    "alg=RS256, kid=abc, signature=abc",                    # wrong separator
    "alg=RS256; kid=a b; signature=abc",                    # kid with a space
    "alg=RS256; kid=" + "k" * 201 + "; signature=abc",      # kid too long
    "alg=RS256; kid=abc; signature=ab$c",                   # not base64
    "sha256=" + "0" * 64,                                   # the v4 header in the v5 place
])
def test_malformed_headers_are_refused(header):
    assert signature_header_parse(header) is None


def test_basic_credentials_must_match_exactly(settings):
    settings.PAGARME_WEBHOOK_BASIC_AUTH = "pagarme:s3nha:com:dois-pontos"

    def header(text: str) -> str:
        return "Basic " + base64.b64encode(text.encode()).decode()

    assert _basic(header("pagarme:s3nha:com:dois-pontos")) is None
    assert _basic(header("pagarme:s3nha")) == "basic_wrong"
    assert _basic("Basic %%%") == "basic_wrong"
    assert _basic(None) == "basic_missing"
    assert _basic("Bearer abc") == "basic_missing"
    settings.PAGARME_WEBHOOK_BASIC_AUTH = ""
    assert _basic(header(":")) == "basic_wrong"  # nothing configured never matches

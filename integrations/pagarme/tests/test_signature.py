import hashlib
import hmac

import pytest

from integrations.pagarme.signature import signature_header, signature_is_valid

BODY = b'{"id":"hook_abc","type":"charge.paid","data":{"id":"ch_1"}}'
SECRET = "s3cr3t-webhook"


def _hex(algorithm, body=BODY, secret=SECRET):
    return hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


@pytest.mark.parametrize("algorithm", ["sha256", "sha1"])
def test_a_correct_signature_of_the_raw_body_is_valid(algorithm):
    assert signature_is_valid(raw_body=BODY, header=f"{algorithm}={_hex(algorithm)}", secret=SECRET)


def test_hex_case_and_surrounding_spaces_do_not_matter():
    assert signature_is_valid(raw_body=BODY, header=f" SHA256={_hex('sha256').upper()} ", secret=SECRET)


@pytest.mark.parametrize(
    "header",
    [
        f"sha256={_hex('sha256', secret='other')}",  # wrong secret
        f"sha256={_hex('sha256', body=BODY + b' ')}",  # body changed by one byte
        f"sha1={_hex('sha256')}",  # algorithm/digest mismatch
        f"md5={hashlib.md5(BODY).hexdigest()}",  # unsupported algorithm
        _hex("sha256"),  # no "algo=" prefix
        "sha256=",  # empty digest
        "sha256=zz" + _hex("sha256")[2:],  # not hex
        "sha256",
        "",
        None,
        "=abc",
    ],
)
def test_wrong_missing_or_malformed_signatures_are_invalid(header):
    assert signature_is_valid(raw_body=BODY, header=header, secret=SECRET) is False


def test_an_empty_secret_never_validates_anything():
    assert signature_is_valid(raw_body=BODY, header=f"sha256={_hex('sha256', secret='')}", secret="") is False


def test_signature_header_round_trips():
    for algorithm in ("sha256", "sha1"):
        header = signature_header(raw_body=BODY, secret=SECRET, algorithm=algorithm)
        assert signature_is_valid(raw_body=BODY, header=header, secret=SECRET)
    with pytest.raises(ValueError):
        signature_header(raw_body=BODY, secret=SECRET, algorithm="md5")

import logging

from common.logging import redact, scrub_sentry_event


def test_documents_and_secrets_are_masked():
    text = "cliente 123.456.789-09 cnpj 12.ABC.345/01DE-35 e 11222333000181 Bearer abc.def.ghi app_secret=XYZ"
    masked = redact(text)
    for secret in ("123.456.789-09", "12.ABC.345/01DE-35", "11222333000181", "abc.def.ghi", "XYZ"):
        assert secret not in masked


def test_bubble_ids_are_not_mistaken_for_documents():
    assert redact("pedido 1671702337369x488321592367327900") == "pedido 1671702337369x488321592367327900"


def test_log_records_are_redacted(caplog):
    from common.logging import RedactFilter

    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactFilter())
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("documento %s", "39053344705")
    assert "39053344705" not in caplog.text


def test_sentry_events_are_scrubbed():
    event = {"message": "falha para 39053344705", "extra": {"doc": ["11222333000181"]}}
    scrubbed = scrub_sentry_event(event, {})
    assert "39053344705" not in str(scrubbed) and "11222333000181" not in str(scrubbed)

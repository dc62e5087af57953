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


CPF, EMAIL, PHONE = "390.533.447-05", "joao.silva@empresa.com.br", "+55 (11) 91234-5678"


def _failing_call() -> None:
    customer = {"cpf": CPF, "email": EMAIL, "telefone": PHONE}  # a frame variable Sentry would send
    raise ValueError(f"cliente recusado: {customer['cpf']} {customer['email']} {customer['telefone']}")


def test_an_exception_with_personal_data_is_redacted_in_the_emitted_record():
    """Before: only the message was redacted; the exception text, the traceback and `extra` went out as they were."""
    import io
    import json

    from pythonjsonlogger.json import JsonFormatter

    from common.logging import RedactFilter, RequestIdFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"))
    logger = logging.getLogger("test.redact.exception")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            _failing_call()
        except ValueError:
            logger.exception("falha ao sincronizar %s", EMAIL, extra={"cliente": {"cpf": CPF, "fone": PHONE}, "email": EMAIL,
                                                                      "documento": 39053344705})
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    record = json.loads(output)
    for value in (CPF, "39053344705", EMAIL, PHONE, "91234-5678"):
        assert value not in output, value
    assert "ValueError: cliente recusado: [doc] [email] [phone]" in record["exc_info"]
    assert "Traceback" in record["exc_info"] and "_failing_call" in record["exc_info"]
    assert record["cliente"] == {"cpf": "[doc]", "fone": "[phone]"} and record["email"] == "[email]" and record["documento"] == "[doc]"
    assert record["message"] == "falha ao sincronizar [email]"


def test_the_sentry_event_of_that_exception_is_scrubbed():
    import sentry_sdk
    from sentry_sdk.transport import Transport

    events: list[dict] = []

    class Capture(Transport):
        def capture_envelope(self, envelope):  # no network: keep what would have been sent
            events.extend(item.payload.json for item in envelope.items if item.payload.json)

    sentry_sdk.init(dsn="https://public@sentry.example.com/1", transport=Capture, before_send=scrub_sentry_event,
                    default_integrations=False, integrations=[])
    try:
        try:
            _failing_call()
        except ValueError as exc:
            with sentry_sdk.new_scope() as scope:
                scope.set_extra("cliente", {"cpf": CPF, "email": EMAIL, "fone": PHONE})
                sentry_sdk.capture_exception(exc)
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)
    assert events, "no event captured"
    sent = str(events)
    for value in (CPF, EMAIL, PHONE, "91234-5678", "joao.silva"):
        assert value not in sent, value
    assert "cliente recusado: [doc] [email] [phone]" in sent
    assert "[email]" in str(events[0]["extra"])


def test_emails_and_phones_are_masked_but_ids_amounts_and_dates_are_not():
    assert redact("ligue (11) 3456-7890, 11 91234-5678 ou +5511912345678; ana@x.com.br") == "ligue [phone], [phone] ou [phone]; [email]"
    for kept in ("pedido 1671702337369x488321592367327900", "OS 1234567890 de R$ 1.234,56", "2026-11-29T19:16:17", "valor 1500.00"):
        assert redact(kept) == kept

import logging

from engine.api.log_redaction import RedactPII


def test_access_line_query_strings_are_redacted() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/articles/suggest?q=mail%20me%20at%20ana%40example.com", "1.1", 200), None,
    )
    RedactPII().filter(record)
    line = record.getMessage()
    assert "ana@example.com" not in line and "%40example" not in line
    assert "[EMAIL]" in line and "200" in line


def test_every_logger_and_traceback_is_masked(caplog) -> None:  # type: ignore[no-untyped-def]
    """Filters on a few loggers missed child loggers (engine.pipeline) and traceback text; the factory does not."""
    from engine.api.log_redaction import install_redaction

    install_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger("engine.pipeline.deep").info("ticket said %s", "card 4111 1111 1111 1111, CVV 123")
        try:
            raise ValueError("could not store 'my password is Hunter2! mail ana@example.com'")
        except ValueError:
            logging.getLogger("some.library").exception("failed")
    text = caplog.text
    for secret in ("4111 1111 1111 1111", "CVV 123", "Hunter2", "ana@example.com"):
        assert secret not in text, secret
    assert "[CARD_NUMBER]" in text and "ValueError" in text

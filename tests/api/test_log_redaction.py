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

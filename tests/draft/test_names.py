import pytest

from engine.draft.names import PersonName, parse_name


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("Erika Mustermann", PersonName("Erika", "Mustermann")),
        ("  Mustermann,  Erika ", PersonName("Erika", "Mustermann")),
        ("Dr. Erika Mustermann", PersonName("Erika", "Mustermann", "Dr.")),
        ("Prof. Dr. Hans von Müller", PersonName("Hans", "von Müller", "Prof. Dr.")),
        ("Frau Mustermann", PersonName(None, "Mustermann", None, "ms")),
        ("Sra. Ana García López", PersonName("Ana", "García López", None, "ms")),
        ("Mr John Smith", PersonName("John", "Smith", None, "mr")),
        ("Erika", PersonName("Erika", None)),
        ("Anna-Lena", PersonName("Anna-Lena", None)),
    ],
)
def test_names_split_into_what_a_salutation_needs(raw: str, parsed: PersonName) -> None:
    assert parse_name(raw) == parsed


@pytest.mark.parametrize("raw", [None, "", "   ", "erika@example.com", "Customer 4711", "Dr."])
def test_no_usable_name(raw: str | None) -> None:
    assert parse_name(raw) is None


def test_full_name_is_first_then_last() -> None:
    assert parse_name("Mustermann, Erika").full == "Erika Mustermann"  # type: ignore[union-attr]

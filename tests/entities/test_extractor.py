import pytest

from engine.entities import EntityExtractor, find_pii
from engine.models.registry import ModelRegistry


@pytest.fixture(scope="module")
def extractor(registry: ModelRegistry) -> EntityExtractor:
    return EntityExtractor(registry, registry.settings.product_names)


def test_english_model_and_rules_together(extractor: EntityExtractor) -> None:
    text = "John Smith from Acme Corp ordered #LM-204881 on 12 May 2026 for $40; mail john@example.com"
    [entities] = extractor.extract([text], ["en"])
    pii = find_pii(text)
    found = {(e.label, e.text) for e in entities}
    assert ("PERSON", "John Smith") in found
    assert ("ORDER_NUMBER", "#LM-204881") in found
    assert ("MONEY", "$40") in found
    assert any(label == "DATE" for label, _ in found)
    assert [p.label for p in pii] == ["EMAIL"]


def test_rules_work_in_languages_without_a_model(extractor: EntityExtractor) -> None:
    [entities] = extractor.extract(["Narudžba 12345: Lumio Hub ne radi, platio sam 49,99 € dana 03.11.2026."], ["hr"])
    found = {(e.label, e.text) for e in entities}
    assert ("ORDER_NUMBER", "12345") in found
    assert ("PRODUCT", "Lumio Hub") in found
    assert ("MONEY", "49,99 €") in found
    assert ("DATE", "03.11.2026.") in found or ("DATE", "03.11.2026") in found


def test_pii_is_not_also_an_entity(extractor: EntityExtractor) -> None:
    [entities] = extractor.extract(["Card 4111 1111 1111 1111 please"], ["en"])
    pii = find_pii("Card 4111 1111 1111 1111 please")
    assert [p.label for p in pii] == ["CARD_NUMBER"]
    assert not any("4111" in e.text for e in entities)


def test_people_and_companies_by_rule_in_other_languages(extractor: EntityExtractor) -> None:
    [entities] = extractor.extract(["Sehr geehrte Frau Schneider, die Rechnung an Müller Technik GmbH fehlt."], ["de"])
    found = {(e.label, e.text) for e in entities}
    assert ("PERSON", "Frau Schneider") in found
    assert ("ORG", "Müller Technik GmbH") in found


@pytest.mark.slow
def test_a_postcode_is_no_order_number(registry: ModelRegistry) -> None:
    extractor = EntityExtractor(registry, [])
    [entities] = extractor.extract(["Please send it to Hauptstraße 5, 10115 Berlin. My order 48213 is late."], ["de"])
    assert {(e.label, e.text) for e in entities} >= {("POSTCODE", "10115"), ("ORDER_NUMBER", "48213")}
    assert not any(e.label == "ORDER_NUMBER" and e.text == "10115" for e in entities)

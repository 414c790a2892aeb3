"""The risk lexicon alone: calm wordings fire in every language, look-alikes are guarded."""

import pytest

from engine.risk.lexicon import Lexicon, normalise


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load()


def test_normalise_folds_accents_case_and_apostrophes() -> None:
    assert normalise("Ich  WEISS, wo Ihre Mitarbeiter wohnen – ça brûle’") == "ich weiss, wo ihre mitarbeiter wohnen – ca brule'"
    assert normalise("Đuro je progutao bateriju") == "duro je progutao bateriju"


@pytest.mark.parametrize(
    ("language", "text", "kind"),
    [
        ("en", "my plug got quite hot and there is a smell of burning plastic", "safety_hazard"),
        ("de", "Aus der Steckdose kamen Funken.", "safety_hazard"),
        ("hr", "Dijete je progutalo bateriju iz daljinskog.", "safety_hazard"),
        ("en", "I got an email saying my account email was changed, but I did not change it.", "security_incident"),
        ("fr", "Je pense que mon compte a été piraté.", "security_incident"),
        ("en", "I will come to your office. I know where your staff live.", "threat"),
        ("es", "Sé dónde viven sus empleados.", "threat"),
        ("it", "Il mio avvocato vi scriverà.", "legal_request"),
        ("nl", "Op grond van de AVG vraag ik inzage in mijn gegevens.", "legal_request"),
        ("pt", "Há uma cobrança no meu cartão que eu não fiz.", "fraud"),
        ("de", "Ich will nicht mehr leben.", "distress"),
        ("es", "Quiero hablar con una persona, por favor.", "human_requested"),
        ("de", "Wenn das so weitergeht, fackle ich euren Laden ab.", "threat"),
    ],
)
def test_calm_risk_wordings_fire(lexicon: Lexicon, language: str, text: str, kind: str) -> None:
    assert kind in lexicon.match([text], {language, "en"})


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "How do I change my email address?"),
        ("en", "What is the plug's maximum temperature?"),
        ("en", "How do I add a new member to my home?"),
        ("en", "Can the hub alert me when the smoke detector goes off?"),
        ("en", "This bug is killing me, the app crashes daily."),
        ("en", "Please call me Bob from now on."),
        ("en", "Will the plug overheat with a space heater? I don't want the strip to melt."),
        ("de", "Das Licht brennt die ganze Nacht, wie stelle ich einen Timer ein?"),
        ("es", "La bombilla está fundida, ¿la cubre la garantía?"),
        ("fr", "Je m'appelle Marie et je voudrais changer le fond d'écran."),
        ("it", "Posso collegare il rilevatore di fumo all'hub?"),
        ("nl", "Hoe neem ik contact op met jullie klantenservice?"),
    ],
)
def test_look_alikes_do_not_fire(lexicon: Lexicon, language: str, text: str) -> None:
    assert lexicon.match([text], {language, "en"}) == {}


def test_every_pattern_reports_an_id_not_the_text(lexicon: Lexicon) -> None:
    [evidence] = lexicon.match(["My lawyer will be in touch."], {"en"})["legal_request"]
    assert evidence == "lexicon:legal_request:en:lawyer"

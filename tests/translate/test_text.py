from engine.translate.text import translate_sentences


def test_sentences_go_to_the_model_and_the_layout_stays() -> None:
    seen: list[list[str]] = []

    def shout(sentences: list[str]) -> list[str]:
        seen.append(sentences)
        return [s.upper() for s in sentences]

    texts = ["Hello Ana. Thanks!\n\n## Steps\n1. Open the app.\n- Tap reset.\n", "One more."]
    assert translate_sentences(texts, shout) == [
        "HELLO ANA. THANKS!\n\n## STEPS\n1. OPEN THE APP.\n- TAP RESET.\n",
        "ONE MORE.",
    ]
    assert seen == [["Hello Ana.", "Thanks!", "Steps", "Open the app.", "Tap reset.", "One more."]]


def test_nothing_to_translate_makes_no_call() -> None:
    def fail(sentences: list[str]) -> list[str]:
        raise AssertionError("called")

    assert translate_sentences(["\n\n", ""], fail) == ["\n\n", ""]

from engine.translate.text import translate_around_links, translate_sentences


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


def test_links_and_addresses_are_never_sent_to_the_model() -> None:
    seen: list[list[str]] = []

    def shout(pieces: list[str]) -> list[str]:
        seen.append(pieces)
        return [p.upper() for p in pieces]

    texts = [
        'Full guide: "Where is my order?" (https://help.lumio.example/articles/delivery#if-the-parcel-is-lost).\n\nOk?',
        "Write to support@lumio.example or www.lumio.example/help, thanks.",
        "https://help.lumio.example/a",
        "Check status.lumio.example or lumio.example/help. E.g. i.e. 1.5 stay prose.",
    ]
    assert translate_around_links(texts, shout) == [
        'FULL GUIDE: "WHERE IS MY ORDER?" (https://help.lumio.example/articles/delivery#if-the-parcel-is-lost).\n\nOK?',
        "WRITE TO support@lumio.example OR www.lumio.example/help, THANKS.",
        "https://help.lumio.example/a",
        "CHECK status.lumio.example OR lumio.example/help. E.G. I.E. 1.5 STAY PROSE.",
    ]
    # The brackets and stops where a piece meets a link stay as written: sent along, a model continued "(" into "(em".
    assert seen == [[
        'Full guide: "Where is my order?"', "Ok?", "Write to", "or", "thanks.", "Check", "or", "E.g. i.e. 1.5 stay prose.",
    ]]


def test_a_sentence_without_a_letter_is_kept_as_written() -> None:
    def fail(sentences: list[str]) -> list[str]:
        raise AssertionError(f"called with {sentences}")

    assert translate_sentences(["1. 2.\n).", "48213"], fail) == ["1. 2.\n).", "48213"]

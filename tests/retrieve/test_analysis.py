from engine.retrieve.analysis import analyse


def test_stems_and_drops_stop_words_per_language() -> None:
    assert analyse("Wo ist meine Bestellung? Die Pakete kommen nicht an.", "de") == ["bestell", "pak"]
    tokens = analyse("Moja narudžba 12345 još nije stigla", "hr")
    assert "12345" in tokens and "narudžb" in tokens and "još" not in tokens


def test_cjk_runs_become_character_ngrams() -> None:
    tokens = analyse("我的订单还没有到", "zh")
    assert "订单" in tokens and "订" in tokens


def test_unknown_language_still_tokenises() -> None:
    assert analyse("Lumio Hub offline", "xx") == ["lumio", "hub", "offline"]


def test_combining_marks_stay_inside_words() -> None:
    # Devanagari vowel signs are combining marks; a plain \w+ would cut "राजधानी" into pieces.
    assert "राजधान" in analyse("भारत की राजधानी क्या है?", "hi")

from engine.retrieve.analysis import analyse, term_spans


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


def test_term_spans_point_at_the_words_they_stem() -> None:
    text = "Die PAKETE kommen, Bestellung 12345!"
    spans = term_spans(text, "de")
    assert [(text[s:e], t) for s, e, t in spans] == [("PAKETE", "pak"), ("Bestellung", "bestell"), ("12345", "12345")]
    assert [t for _, _, t in spans] == analyse(text, "de")


def test_term_spans_of_cjk_grams_keep_their_offsets() -> None:
    text = "Lumio 订单还没有到"
    spans = term_spans(text, "zh")
    assert (6, 8, "订单") in spans and (0, 5, "lumio") in spans
    assert all(text[s:e] == t for s, e, t in spans if t != "lumio")


def test_arabic_conjunction_before_the_article_is_stripped() -> None:
    # "and the school", "so the book" must meet "the school", "the book".
    assert analyse("والمدرسة فالكتاب", "ar") == analyse("المدرسة الكتاب", "ar") == ["مدرس", "كتاب"]

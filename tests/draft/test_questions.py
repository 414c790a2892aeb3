from engine.draft.questions import question_parts


def test_two_questions_are_two_parts() -> None:
    assert question_parts("Hi! How do I return my Lumio Plug? And when will I get my refund?") == [
        "How do I return my Lumio Plug?",
        "And when will I get my refund?",
    ]


def test_a_connective_splits_a_request_without_question_marks() -> None:
    parts = question_parts("Ich möchte mein Passwort ändern. Außerdem ist meine Rechnung falsch.")
    assert parts == ["Ich möchte mein Passwort ändern.", "ist meine Rechnung falsch."]
    also = question_parts("I need to change my email address. Also, my invoice shows the wrong amount.")
    assert also == ["I need to change my email address.", "my invoice shows the wrong amount."]


def test_one_question_is_no_parts() -> None:
    assert question_parts("Where is my order 12345? It has been two weeks.") == []
    assert question_parts("Why? Where is my order 12345?") == []  # "Why?" asks nothing on its own

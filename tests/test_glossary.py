"""The English -> French glossary: its format, its lookups, and that it speaks the report's words."""

from __future__ import annotations

import pytest

from assistant import load_report
from assistant.search.glossary import GlossaryError, glossary, parse_glossary
from assistant.search.lexical import question_search_text, tokenize
from assistant.text import search_text


def test_phrases_win_over_their_words():
    g = parse_glossary("money = argent\nmoney laundering = blanchiment d'argent\nlaundering = lavage")
    assert g.french_for("How is money laundering fought?") == ["blanchiment d'argent"]
    assert g.french_for("Where did the money go?") == ["argent"]
    assert g.spans("money laundering cases") == [("money laundering", ("blanchiment d'argent",)), ("cases", ())]


def test_inflections_and_repeated_terms_add_up():
    g = parse_glossary("# comment\nprison, prisons = prisons\n\njail = prisons\nprison = détenus  # again")
    assert g.french_for("Which jails?") == ["prisons"]
    assert g.french_for("prison's") == ["prisons", "détenus"]


@pytest.mark.parametrize("text, line", [
    ("a = b\nno equals sign", 2), ("a = b\n = b", 2), ("a = b\n\nc = ", 3), ("x =, ", 1),
])
def test_malformed_lines_are_named(text, line):
    with pytest.raises(GlossaryError, match=f"glossary:{line}:"):
        parse_glossary(text)


def test_an_empty_glossary_is_an_error():
    with pytest.raises(GlossaryError, match="no entries"):
        parse_glossary("# only a comment\n")


def test_every_french_term_is_a_word_of_the_report():
    report = load_report()
    texts = [p.text for p in report.paragraphs] + [h.title for h in report.headings] + [report.summary]
    stems = set().union(*(tokenize(search_text(t)) for t in texts))
    missing = sorted({f for terms in glossary().entries.values() for f in terms
                      if not set(tokenize(search_text(f))) <= stems})
    assert missing == []


def test_english_questions_read_with_the_report_s_words():
    text = question_search_text("How many wildlife traffickers did UNODC help train?")
    for french in ("ONUDC", "espèces sauvages", "trafiquants", "formation"):
        assert french in text
    french = "Combien de trafiquants d'espèces sauvages ?"
    assert question_search_text(french) == search_text(french)  # French questions are left alone

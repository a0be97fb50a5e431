"""What a count question counts, whether a sentence counts it, and what a ranking question asks
(parts of the abstention rules)."""

from __future__ import annotations

import pytest

from assistant.compose.asked import (
    ASKS_RANKING,
    asked_kinds,
    counted_terms,
    counts_people,
    holds_count_of,
    holds_place,
    ranked_in,
)


@pytest.mark.parametrize("question, expected", [
    ("Combien de victimes de la traite ont été identifiées ?", {"victim"}),
    ("Combien de trafiquants d'espèces sauvages ont été arrêtés en 2019 ?", {"trafiqu"}),
    ("Combien de lois et règlements anticorruption ont été rédigés ?", {"lois", "regl", "anticorrupt"}),
    ("How many teachers were trained?", {"enseign"}),
    ("In how many countries did UNODC collect data?", {"pay"}),
    ("How many tools and materials were produced?", {"outil"}),
    ("How many users consulted the SHERLOC portal?", {"utilis"}),
])
def test_the_counted_thing_in_the_report_s_words(question, expected):
    assert expected <= counted_terms(question)


@pytest.mark.parametrize("question", [
    "À combien s'élevaient les promesses de dons en 2019 ?",  # an amount, not a count of things
    "How many people were trained?",  # anyone: "1 800 praticiens" answers it
    "Combien de personnes ont été formées ?",
    "Combien de fois le portail a-t-il été consulté ?",  # times: answered by a number of users
    "Quel est le budget de l'ONUDC ?",
])
def test_no_counted_thing(question):
    assert counted_terms(question) is None


def test_a_sentence_counts_the_thing_only_when_its_number_comes_just_before():
    victims = counted_terms("Combien de victimes ont été identifiées ?")
    assert holds_count_of("il a été possible d'identifier et de soutenir 228 victimes de la traite", victims)
    assert holds_count_of("près d'un million de contrôles", counted_terms("How many checks were made?"))
    assert not holds_count_of("72 pays ont reçu une assistance pour aider les victimes", victims)
    assert not holds_count_of("la résolution 74/177 sur les victimes", victims)  # a reference, not a count


def test_a_counted_word_the_report_never_uses_is_not_checked():
    stems = frozenset({"victim", "resum", "analyt", "pay"})
    assert counted_terms("Combien de victimes ont été identifiées ?", stems) == {"victim"}
    assert counted_terms("Combien de gens ont été aidés ?", stems) is None  # "gens": maybe "personnes"
    assert counted_terms("How many executive summaries were finalized?", stems) is not None
    assert counted_terms("How many journalists were protected?", stems) is None


@pytest.mark.parametrize("question, people", [
    ("Combien de personnes ont été formées ?", True),
    ("How many people took the course?", True),
    ("Combien de gens ont consulté SHERLOC ?", True),
    ("How many victims were identified?", False),
    ("Combien de fois le portail a-t-il été consulté ?", False),  # times, not people
    ("Who trained people?", False),
])
def test_a_count_of_people(question, people):
    assert counts_people(question) is people


def test_what_a_sentence_ranks_is_next_to_its_superlative():
    ranked = ranked_in("des groupes criminels ayant la main mise sur les principales routes empruntées")
    assert "rout" in ranked and "group" not in ranked  # three words either side, no more
    assert ranked_in("Le portail a été consulté par 338 196 utilisateurs.") == frozenset()


@pytest.mark.parametrize("question, asks", [
    ("Quel pays est le plus grand donateur ?", True),
    ("Which country had the highest number of victims?", True),
    ("What is the most common crime?", True),
    ("Combien de pays ont plus de 100 victimes ?", False),  # "plus de" is no superlative
    ("Which countries were covered?", False),
    ("What best practices did UNODC share?", False),
])
def test_a_question_asking_for_a_ranking(question, asks):
    assert bool(ASKS_RANKING.search(question)) is asks


@pytest.mark.parametrize("question, asks_place", [
    ("In which cities are the pilot assessments under way?", True),  # the plural too
    ("In which city did the training take place?", True),
    ("In what countries did UNODC train judges?", True),
    ("Dans quelles villes les évaluations pilotes sont-elles en cours ?", True),
    ("Which cities did UNODC help?", False),  # a list of names is no place phrase to look for
])
def test_a_question_asking_where(question, asks_place):
    assert (holds_place in asked_kinds(question)) is asks_place


def test_an_english_count_counts_the_last_word_of_its_noun_phrase():
    # Adjectives come first in English: the thing counted ("authorités") is the fourth word.
    assert "autor" in counted_terms("How many new competent national authorities did UNODC add?")

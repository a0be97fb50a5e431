"""A document's acronyms and their OCR garbles, read from the document (``ingest/acronyms.py``):
the seed's five garbles of ONUDC are found, two real acronyms that differ by a letter or two are
never merged, and the garbles reach the search text only. (The ten sample reports, where it
finds none: ``test_ingest_pdf.py``.)"""

from __future__ import annotations

import pytest
from conftest import SEED

from assistant.compose.asked import topic_terms
from assistant.ingest.acronyms import (
    acronym_variants,
    common_acronyms,
    inserted_garble,
    lost_letter_garble,
    with_acronyms,
)
from assistant.ingest.corpus import load_any
from assistant.ingest.markdown import parse_report
from assistant.records import Unit, report_from_dict, report_to_dict
from assistant.search.lexical import LexicalIndex, acronym_forms, question_variants
from assistant.text import search_text

SEED_VARIANTS = {"ONU DC": "ONUDC", "ONUDDC": "ONUDC", "ONUSD": "ONUDC", "ONUSUD": "ONUDC", "ONUSUDC": "ONUDC"}


def _sentences(counts: dict[str, int]) -> list[str]:
    """One sentence per mention: "L'ONUDC a agi." for {"ONUDC": 1}."""
    return [f"Le {word} a agi en {2000 + i}." for word, n in counts.items() for i in range(n)]


@pytest.fixture(scope="module")
def seed():
    return load_any(SEED)


def test_the_seed_garbles_of_onudc_and_nothing_else(seed):
    assert seed.acronym_variants == SEED_VARIANTS
    assert seed.common_acronyms == ("ONUDC",)


def test_garbles_reach_the_search_text_never_the_display_text(seed):
    for variant in SEED_VARIANTS:
        printed = [p for p in seed.paragraphs if variant in p.text]
        assert printed, f"{variant} is printed in the report"
        for p in printed:
            assert variant in p.text and variant not in p.search_text and "ONUDC" in p.search_text
    assert seed.paragraph(72).text.startswith("L'ONUDDC a aidé 32 États")
    assert seed.paragraph(72).search_text.startswith("L'ONUDC a aidé 32 États")
    # Only whole words: ONU-Habitat and the display's own ONUDC stay as they are.
    assert "ONU-Habitat" in seed.paragraph(18).search_text


def test_the_variants_are_document_data_that_survive_the_index_copy(seed):
    again = report_from_dict(report_to_dict(seed))
    assert again == seed and again.acronym_variants == SEED_VARIANTS and again.common_acronyms == ("ONUDC",)
    # A parse stored before the field existed reads back without it.
    old = report_to_dict(seed)
    del old["acronym_variants"], old["common_acronyms"]
    assert report_from_dict(old).acronym_variants == {}


@pytest.mark.parametrize("word, acronym", [
    ("ONUDDC", "ONUDC"),    # a doubled letter
    ("ONUSUDC", "ONUDC"),   # two letters inserted
    ("UNOODC", "UNODC"),
])
def test_inserted_letters_are_a_garble(word, acronym):
    assert inserted_garble(word, acronym)


@pytest.mark.parametrize("word, acronym", [
    ("UNDPO", "UNDP"),      # a suffix: another acronym
    ("UNODCO", "UNODC"),
    ("UNMISS", "UNMIS"),    # a doubled last letter is a suffix too
    ("UNOCT", "UNCT"),      # four letters: too short to tell (both in S/2025/194)
    ("DPPA", "DPA"),
    ("ONUSIDA", "ONUDC"),   # letters after the acronym's: another body
    ("OXUDC", "ONUDC"),     # the first two letters differ
    ("ONUSUSUDC", "ONUDC"),  # more than two inserted
])
def test_what_is_not_an_inserted_garble(word, acronym):
    assert not inserted_garble(word, acronym)


def test_a_lost_letter_is_allowed_only_with_an_insertion_elsewhere():
    assert lost_letter_garble("ONUSD", "ONUDC") and lost_letter_garble("ONUSUD", "ONUDC")
    assert not lost_letter_garble("MINUSCA", "MINUSMA")  # the lost letter replaced where it stood
    assert not lost_letter_garble("UNDP", "UNDPO")       # shorter: another acronym
    assert not lost_letter_garble("UNSMIS", "UNSMIL")    # a different ending
    assert not lost_letter_garble("ONDCX", "ONUDC")


@pytest.mark.parametrize("acronym, other", [
    ("ONUDC", "ONUSIDA"), ("UNDP", "UNDPO"), ("UNSMIL", "UNSMIS"), ("UNHCR", "UNHRC"), ("ESCAP", "ESCWA"),
    ("MINUSMA", "MINUSCA"), ("UNMIS", "UNMISS"), ("UNCT", "UNOCT"), ("DPA", "DPPA"), ("UNDPO", "UNDP"),
    ("UNODC", "UNOCT"), ("VII", "VIII"),
])
def test_two_real_acronyms_are_never_merged(acronym, other):
    assert acronym_variants(_sentences({acronym: 8, other: 2})) == {}


def test_split_and_inserted_garbles_are_found():
    texts = _sentences({"UNODC": 10, "UNOODC": 3, "UNODDC": 1}) + ["Le UNO DC a agi."] * 2
    assert acronym_variants(texts) == {"UNO DC": "UNODC", "UNODDC": "UNODC", "UNOODC": "UNODC"}


def test_a_lost_letter_needs_the_garbling_shown_in_the_document():
    alone = _sentences({"ONUDC": 10, "ONUSD": 2})
    assert acronym_variants(alone) == {}  # ONUSD alone could be another body's acronym
    chain = _sentences({"ONUDC": 10, "ONUSUDC": 3, "ONUSUD": 2, "ONUSD": 2})
    assert acronym_variants(chain) == {"ONUSD": "ONUDC", "ONUSUD": "ONUDC", "ONUSUDC": "ONUDC"}


def test_counts_decide_which_spelling_is_the_acronym():
    assert acronym_variants(_sentences({"ONUDC": 2, "ONUDDC": 1})) == {}  # written twice: no spelling to prefer
    assert acronym_variants(_sentences({"ONUDC": 4, "ONUDDC": 4})) == {}  # as often: neither is a garble
    assert acronym_variants(_sentences({"ONUDC": 3, "ONUSUDC": 9})) == {}  # a garble is the less written


def test_a_word_the_document_spells_out_is_an_acronym_of_its_own():
    texts = _sentences({"UNHCR": 8}) + ["the High Commissioner for Human Rights (UNHCHR) spoke."]
    assert acronym_variants(texts) == {}
    assert acronym_variants(_sentences({"UNHCR": 8}) + ["the UNHCHR spoke."]) == {"UNHCHR": "UNHCR"}  # not defined


def test_common_acronyms_are_those_of_half_the_paragraphs():
    paragraphs = ["L'ONUDC a agi avec le PNUD.", "L'ONUDC a publié.", "Le PNUD a financé.", "Rien."]
    assert common_acronyms(paragraphs) == ("ONUDC", "PNUD")
    assert common_acronyms(paragraphs[:1] + ["Rien."] * 2) == ()
    assert common_acronyms([]) == ()


def test_a_small_document_keeps_its_spelling(mini_report_text):
    # ONUDC is written twice in the synthetic report: no spelling to prefer, nothing unified.
    r = parse_report(mini_report_text)
    assert r.acronym_variants == {} and r.paragraphs[3].search_text == r.paragraphs[3].text


def test_with_acronyms_rewrites_paragraph_and_heading_search_texts(mini_report_text):
    text = mini_report_text.replace("### 1. Détails", "### 1. Détails sur l'ONUDDC") + (
        "5. L'ONUDC a formé des juges.\n6. L'ONUDC a publié.\n")
    r = parse_report(text)
    assert r.acronym_variants == {"ONU DC": "ONUDC", "ONUDDC": "ONUDC", "ONUSUDC": "ONUDC"}
    assert r.paragraphs[1].text.startswith("L'ONU DC a publié") and r.paragraphs[1].search_text.startswith("L'ONUDC")
    assert r.headings[-1].title.endswith("l'ONUDDC") and r.headings[-1].search_text.endswith("l'ONUDC")
    assert with_acronyms(r) == r  # read again, the same


def test_search_text_takes_the_variants_it_is_given():
    shown = "l'ONU  DC¹ et l'ONUSUDC, l'ONUSUDCX, ONU-Habitat"
    assert search_text(shown) == "l'ONU DC et l'ONUSUDC, l'ONUSUDCX, ONU-Habitat"
    assert search_text(shown, SEED_VARIANTS) == "l'ONUDC et l'ONUDC, l'ONUSUDCX, ONU-Habitat"


def _unit(document: str, text: str, number: int = 1) -> Unit:
    return Unit(id=f"{document}#p{number}", kind="paragraph", paragraph=number, section=(), text=text,
                search_text=search_text(text, {"ONUDDC": "ONUDC"} if document == "seed" else None),
                embed_text=text, document=document)


def test_a_question_quoting_a_garble_finds_the_acronym():
    units = [_unit("seed", "L'ONUDDC a publié l'étude.", 1), _unit("seed", "Le budget a baissé.", 2)]
    lexical = LexicalIndex(units, "fr", variants={"seed": {"ONUDDC": "ONUDC"}})
    scores = lexical.scores("L'ONUDDC a publié")
    assert scores[0] > scores[1] and LexicalIndex(units, "fr").scores("ONUDDC")[0] == 0.0


def test_a_garble_another_document_prints_as_its_own_word_is_left_in_questions():
    units = [_unit("seed", "L'ONUDDC a agi."), _unit("other", "L'ONUDDC est un autre organe.")]
    assert question_variants(units, {"seed": {"ONUDDC": "ONUDC"}}) == {}
    assert question_variants(units[:1], {"seed": {"ONUDDC": "ONUDC"}}) == {"ONUDDC": "ONUDC"}


def test_the_body_a_document_is_about_says_nothing_of_a_question():
    assert acronym_forms("ONUDC") == {"ONUDC", "UNODC"} and acronym_forms("UNODC") == {"ONUDC", "UNODC"}
    assert acronym_forms("UNTMIS") == {"UNTMIS"}
    common = frozenset({"onudc", "unodc"})
    question = "Quelle est la situation financière de l'ONUDC ?"
    assert [t for t in topic_terms(question, common=common)] == [(frozenset({"situat"}),), (frozenset({"financi"}),)]
    assert (frozenset({"onudc"}),) in topic_terms(question)  # in a library that is not about it: a topic

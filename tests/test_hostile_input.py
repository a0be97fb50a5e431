"""Issue #16's reproducers against the real model and index, one test each: every one failed on
main before the fix (a TypeError, AttributeError or AssertionError from deep inside, a wrong
answer, or a silent difference between answer() and retrieve())."""

from __future__ import annotations

import math

import pytest

from assistant import answer, load_report, retrieve

pytestmark = pytest.mark.model
REPORT = load_report()


def _cited(a) -> list[int]:
    """The paragraph numbers an answer cites (all of the one document the library holds)."""
    assert all(c.document == REPORT.doc_id for c in a.citations)
    return [c.paragraph for c in a.citations]


QUESTION = "Combien d'États sont parties à la Convention contre la corruption ?"


def test_a_lone_surrogate_is_no_crash_in_answer():
    a = answer("\ud83d")  # was: TypeError in the tokenizer
    assert a.abstained and _cited(a) == [] and a.question == "\ufffd"


def test_a_lone_surrogate_is_no_crash_in_retrieve():
    assert retrieve("\ud83d")  # was: TypeError in the tokenizer


def test_a_lone_surrogate_inside_a_question_leaves_it_answerable():
    a = answer(QUESTION.replace("parties", "parties\ud83d"))
    assert 46 in _cited(a)


@pytest.mark.parametrize("item", [None, 5])
def test_a_history_item_that_is_not_text_is_a_value_error(item):
    with pytest.raises(ValueError, match=r"history\[0\] must be an earlier question"):  # was: AttributeError
        answer("x", history=[item])


def test_a_history_that_is_a_number_is_a_value_error():
    with pytest.raises(ValueError, match="history must be a list"):  # was: TypeError
        answer("x", history=42)


@pytest.mark.parametrize("item", [b"Combien d'utilisateurs ?", ["nested"]])
def test_a_history_of_bytes_or_lists_is_a_value_error(item):
    with pytest.raises(ValueError, match=r"history\[0\] must be an earlier question"):  # was: TypeError
        answer("x", history=[item])


def test_a_short_follow_up_of_a_long_question_is_answered():
    """Was refused as "too long (2006 characters)": the history was merged before the check."""
    before = ("Qu'a fait l'ONUDC contre la traite des personnes ? " + "Précisez les pays. " * 110)[:1995]
    a = answer("et au Kenya ?", history=[before])  # 13 characters, merged into 2,005
    assert a.question == "et au Kenya ?" and a.standalone_question.endswith(" — Kenya ?")
    assert len(a.standalone_question) > 2000 and a.passages


@pytest.mark.parametrize("k", [0, -1])
def test_k_below_one_is_refused_alike_by_answer_and_retrieve(k):
    """answer(k=0) said the report does not say; retrieve(k=0) returned 5 passages."""
    with pytest.raises(ValueError, match="k .*must be a whole number from 1 to 1000"):
        answer(QUESTION, k=k)
    with pytest.raises(ValueError, match="k .*must be a whole number from 1 to 1000"):
        retrieve(QUESTION, k=k)


@pytest.mark.parametrize("k", [1.5, "5", None, math.nan])
def test_k_of_the_wrong_type_is_a_value_error(k):
    with pytest.raises(ValueError, match="k .*must be a whole number"):  # was: TypeError
        answer(QUESTION, k=k)
    with pytest.raises(ValueError, match="k .*must be a whole number"):
        retrieve(QUESTION, k=k)


def test_candidates_zero_is_a_value_error():
    with pytest.raises(ValueError, match="candidates .* from 1"):  # was: AssertionError
        answer(QUESTION, candidates=0)


def test_a_history_given_as_a_string_is_refused_not_read_letter_by_letter():
    """The question became " — 2018 ?": the string's last letter was taken as the question before."""
    with pytest.raises(ValueError, match="wrap a single question in a list"):
        answer("et en 2018 ?", history="Combien d'utilisateurs ont consulté SHERLOC en 2019 ?")


def test_an_unknown_setting_is_a_value_error():
    with pytest.raises(ValueError, match="unknown setting"):  # was: TypeError only
        answer(QUESTION, not_a_setting=1)
    with pytest.raises(ValueError, match="settings must be an assistant.Settings"):
        retrieve(QUESTION, settings={"k": 3})


@pytest.mark.parametrize("question, text", [
    ("Que dit le §-1 ?", "Le rapport n'a pas de paragraphe -1 : ses paragraphes vont de 1 à 116."),
    ("Que dit le §0 ?", "Le rapport n'a pas de paragraphe 0 : ses paragraphes vont de 1 à 116."),
    ("Que dit le §200 ?", "Le rapport n'a pas de paragraphe 200 : ses paragraphes vont de 1 à 116."),
    ("What does paragraph 117 say?", "The report has no paragraph 117: its paragraphs run from 1 to 116."),
])
def test_a_paragraph_the_report_does_not_have_is_said_to_be_missing(question, text):
    a = answer(question)  # "§-1" quoted §23 and §38
    assert a.text == text and a.abstained and _cited(a) == [] and a.quotes == []


@pytest.mark.parametrize("question, text", [
    ("Que dit la section IX.Z ?", "Le rapport n'a pas de section IX.Z : ses sections vont de I à VI."),
    ("What does part G of section IV cover?",
     "The report has no section IV.G: section IV has the parts IV.A to IV.F."),
])
def test_a_section_the_report_does_not_have_is_said_to_be_missing(question, text):
    a = answer(question)  # "section IX.Z" quoted §99 and §47
    assert a.text == text and a.abstained and _cited(a) == []


def test_existing_parts_are_still_answered_directly():
    assert _cited(answer("Que dit le paragraphe 116 ?")) == [116]
    assert answer("Que couvre la partie F de la section IV ?").mode == "direct"


def test_the_cli_says_what_is_wrong_in_one_line(capsys):
    from assistant.app import cli

    assert cli.main(["ask", "--k", "0", QUESTION]) == 2
    assert cli.main(["ask", "   "]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: k (passages to retrieve) must be a whole number from 1 to 1000, not 0",
                   "error: the question is empty: ask something about the report"]


def test_the_cli_reads_an_argument_that_is_not_utf8():
    """Python hands undecodable argv bytes over as lone surrogates ('\\udcff'): the tokenizer's
    TypeError, with a traceback, before."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable.encode(), b"-m", b"assistant", b"ask", b"Combien de parties \xff ?"],
                          capture_output=True, timeout=300)
    assert done.returncode == 0 and b"Traceback" not in done.stderr


def test_search_variants_are_kept_within_bounds():
    """A caller passing a new weight on every call grew the retriever cache without end."""
    from assistant.search import retrieval
    from assistant.settings import Settings

    for i in range(retrieval._MAX_SEARCH_VARIANTS + 20):
        retrieve(QUESTION, k=3, settings=Settings(lexical_weight=1.0 + i / 1000))
    assert len(retrieval._retrievers) == retrieval._MAX_SEARCH_VARIANTS

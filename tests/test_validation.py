"""The checks at the door (validation.py) and references to parts the report does not have
(references.py), without the model: the regression tests with the real answer() are in
test_hostile_input.py."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from assistant import load_report
from assistant.compose.references import MissingPart, missing_part, missing_text
from assistant.search.index import build_units
from assistant.settings import Settings
from assistant.validation import (
    InvalidInput,
    UnknownSetting,
    check_history,
    check_k,
    check_question,
    check_request,
    check_settings,
    clean_text,
)

SETTINGS = Settings()
UNITS = build_units(load_report())


@pytest.mark.parametrize("raw, cleaned", [
    ("\ud83d", "\ufffd"),  # a lone high surrogate: the tokenizer raised TypeError on it
    ("a\udc00b", "a\ufffdb"),  # a lone low one
    ("\ud83d\ude00 ?", "😀 ?"),  # a pair written as two code units is its character
    ("\udfff\ud800", "\ufffd\ufffd"),  # low then high: no pair
    ("Combien\x00 d'États\x07 ?", "Combien  d'États  ?"),
    ("  é ", "é"),
])
def test_clean_text(raw, cleaned):
    assert clean_text(raw) == cleaned
    clean_text(raw).encode("utf-8")  # always encodable now


@pytest.mark.parametrize("bad, message", [
    (None, "must be text"), (42, "must be text"), (b"q", "must be text"), ("", "empty"), (" \x00\t", "empty"),
    ("x" * 2001, r"too long \(2001 characters; at most 2000\)"),
])
def test_bad_questions_are_invalid_input(bad, message):
    with pytest.raises(InvalidInput, match=message):
        check_question(bad, SETTINGS)


def test_a_question_at_the_limit_is_accepted():
    assert check_question(" " + "x" * 2000 + "\n", SETTINGS) == "x" * 2000


@pytest.mark.parametrize("history, message", [
    ([None], r"history\[0\] must be an earlier question \(a str\), not None"),
    ([5], r"history\[0\] must be .* not int"),
    (["ok", b"bytes"], r"history\[1\] .* not bytes"),
    ([["nested"]], r"history\[0\] .* not list"),
    (42, "history must be a list .* not int"),
    ("Combien d'utilisateurs en 2019 ?", r"not str \(wrap a single question in a list"),
    (["x" * 2001], r"history\[0\] is too long"),
])
def test_bad_histories_are_invalid_input(history, message):
    with pytest.raises(InvalidInput, match=message):
        check_history(history, SETTINGS)


def test_histories_are_cleaned_and_blank_entries_left_out():
    assert check_history(None, SETTINGS) == []
    assert check_history(("a\x00b", "  ", "\ud83d"), SETTINGS) == ["a b", "\ufffd"]


@pytest.mark.parametrize("k", [0, -1, 1.5, "5", None, math.nan, math.inf, True, 1001, [5]])
def test_bad_k_is_invalid_input(k):
    with pytest.raises(InvalidInput, match="k .*must be a whole number from 1 to 1000"):
        check_k(k)


def test_k_accepts_integral_numbers():
    import numpy as np

    assert [check_k(v) for v in (1, 5.0, np.int64(7), 1000)] == [1, 5, 7, 1000]


@pytest.mark.parametrize("overrides, message", [
    ({"candidates": 0}, "candidates .* from 1"),
    ({"k": 0}, "k .* from 1"),
    ({"lexical_weight": math.nan}, "lexical_weight .* finite"),
    ({"dense_weight": -1}, "dense_weight .* at least 0"),
    ({"abstain_standout": "high"}, "abstain_standout .* finite number"),
    ({"max_quotes": 2.5}, "max_quotes .* whole number"),
    ({"index_dir": 3}, "index_dir must be a path"),
    ({"embedding_model": ""}, "embedding_model must be a non-empty str"),
    ({"llm": 1}, "llm must be a non-empty str or None"),
    ({"threads": 0}, "threads .* from 1"),
])
def test_bad_settings_are_invalid_input(overrides, message):
    with pytest.raises(InvalidInput, match=message):
        check_settings(SETTINGS, overrides)


def test_every_setting_has_a_checked_kind():
    """Kinds come from the declared types, so a new setting is checked without an edit here."""
    from assistant.validation import SETTING_KINDS

    assert set(SETTING_KINDS.values()) <= {"whole", "real", "yes/no", "path", "text", "optional text"}
    with pytest.raises(InvalidInput, match="onnx_spinning must be True or False, not 'no'"):
        check_settings(SETTINGS, {"onnx_spinning": "no"})
    assert check_settings(SETTINGS, {"onnx_spinning": False}).onnx_spinning is False
    with pytest.raises(InvalidInput, match="sentence_weight .* at least 0"):
        check_settings(SETTINGS, {"sentence_weight": -0.5})
    with pytest.raises(InvalidInput, match="concurrency .* from 1"):
        check_settings(SETTINGS, {"concurrency": 0})


def test_settings_built_with_bad_values_are_refused_too():
    with pytest.raises(InvalidInput, match="k .* from 1"):
        check_settings(Settings(k=0))
    with pytest.raises(InvalidInput, match="settings must be an assistant.Settings"):
        check_settings("k=5")


def test_unknown_settings_are_a_value_error_that_old_callers_still_catch_as_type_error():
    with pytest.raises(UnknownSetting, match="unknown setting.*not_a_setting.*the settings are") as info:
        check_settings(SETTINGS, {"not_a_setting": 1})
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_valid_overrides_are_applied_with_their_declared_types():
    s = check_settings(SETTINGS, {"k": 7.0, "lexical_weight": 2, "index_dir": "/tmp/x"})
    assert (s.k, type(s.k)) == (7, int) and s.lexical_weight == 2.0 and s.index_dir == Path("/tmp/x")
    assert check_settings(SETTINGS, {"k": SETTINGS.k}) is SETTINGS  # nothing changed: the same object


def test_the_question_is_checked_before_the_history_is_merged_with_it():
    """A 12-character follow-up of a long question is not "too long": each is within limits."""
    request = check_request("et en 2018 ?", None, ["Combien " + "x" * 1980 + " en 2019 ?"])
    assert request.question == "et en 2018 ?" and len(request.history[0]) == 1998


def test_on_token_must_be_callable():
    with pytest.raises(InvalidInput, match="on_token"):
        check_request("q", on_token=5)


@pytest.mark.parametrize("question, part", [
    ("Que dit le §-1 ?", MissingPart("paragraph", "-1")),
    ("Que dit le §0 ?", MissingPart("paragraph", "0")),
    ("Que dit le §200 ?", MissingPart("paragraph", "200")),
    ("What does paragraph 117 say?", MissingPart("paragraph", "117")),
    ("Que dit la section IX.Z ?", MissingPart("section", "IX.Z")),
    ("Que couvre la partie G de la section IV ?", MissingPart("section", "IV.G")),
    ("What does Part VII say?", MissingPart("section", "VII")),
    ("§" + "9" * 40, MissingPart("paragraph", "9" * 40)),
    ("Que dit le paragraphe 46 ?", None), ("Voir § 12 et §13", None),
    ("Que couvre la partie E de la section IV ?", None),
    ("Résume la section IV.F.3", None), ("What does part C cover?", None),  # C: a part of IV, and a Roman 100
    ("Combien d'États parties à la Convention ?", None), ("What does section V deal with?", None),
])
def test_missing_parts(question, part):
    assert missing_part(question, UNITS) == part


def test_no_reference_question_names_a_missing_part():
    from assistant.evaluation.evaluate import load_questions

    assert [q.question for q in load_questions() if missing_part(q.question, UNITS)] == []


def test_missing_texts():
    assert missing_text(MissingPart("paragraph", "200"), UNITS, "fr") == (
        "Le rapport n'a pas de paragraphe 200 : ses paragraphes vont de 1 à 116.")
    assert missing_text(MissingPart("paragraph", "117"), UNITS, "en") == (
        "The report has no paragraph 117: its paragraphs run from 1 to 116.")
    assert missing_text(MissingPart("section", "IX.Z"), UNITS, "fr") == (
        "Le rapport n'a pas de section IX.Z : ses sections vont de I à VI.")
    assert missing_text(MissingPart("section", "IV.G"), UNITS, "en") == (
        "The report has no section IV.G: section IV has the parts IV.A to IV.F.")

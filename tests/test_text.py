from __future__ import annotations

import pytest

from assistant.compose.conversation import is_follow_up, standalone_question
from assistant.search.lexical import question_search_text
from assistant.settings import Settings
from assistant.text import display_text, numbers, ordinals, search_text, sentences


@pytest.mark.parametrize("raw, normalised", [
    ("338 196 utilisateurs", ["338196"]), ("20,8 %", ["20.8"]), ("1,94 million", ["1.94"]),
    ("55,000 people", ["55000"]), ("1.94 million", ["1.94"]), ("602,5 millions", ["602.5"]),
    ("En 2019 150 activités", ["2019", "150"]), ("1\u00a0600 membres", ["1600"]), ("aucun", []),
])
def test_numbers(raw, normalised):
    assert numbers(raw) == normalised


def test_display_and_search_text():
    md = "l'ONU DC<sup>1</sup> et [74/177](#) du 1<sup>er</sup> avril, *Manuel*, comppauth\\\\_uncac"
    shown = display_text(md)
    assert shown == "l'ONU DC¹ et 74/177 du 1er avril, Manuel, comppauth_uncac"
    assert search_text(shown) == "l'ONU DC et 74/177 du 1er avril, Manuel, comppauth_uncac"
    # A document's OCR garbles are its data (Report.acronym_variants), given to search_text.
    variants = {"ONU DC": "ONUDC", "ONUSUDC": "ONUDC", "ONUSD": "ONUDC", "ONUDDC": "ONUDC", "ONUSUD": "ONUDC"}
    assert search_text(shown, variants) == "l'ONUDC et 74/177 du 1er avril, Manuel, comppauth_uncac"
    assert (search_text("ONU-Habitat et ONUSUDC, ONUSD, ONUDDC, ONUSUD", variants)
            == "ONU-Habitat et ONUDC, ONUDC, ONUDC, ONUDC")


def test_english_acronyms_map_to_the_report_s():
    assert question_search_text("What did UNODC and UNDP do?").startswith("What did ONUDC and PNUD do?")


def test_sentences_rejoin_to_the_text():
    text = "Le premier cycle est presque terminé, avec 169 résumés. Les travaux progressent. En 2019, 12 États."
    parts = sentences(text)
    assert len(parts) == 3 and " ".join(parts) == text


@pytest.mark.parametrize("question, previous, expected", [
    ("et en 2018 ?", "Combien d'utilisateurs ont consulté SHERLOC en 2019 ?",
     "Combien d'utilisateurs ont consulté SHERLOC en 2018 ?"),
    ("and in 2018?", "How many users consulted SHERLOC in 2019?", "How many users consulted SHERLOC in 2018?"),
    ("what about firearms?", "How many countries got legislative assistance?",
     "How many countries got legislative assistance — firearms ?"),
    ("Combien de parties compte la Convention ?", "Question précédente ?",
     "Combien de parties compte la Convention ?"),
])
def test_follow_ups(question, previous, expected):
    assert standalone_question(question, [previous]) == expected


@pytest.mark.parametrize("question, follows", [
    ("Where did they take place?", True),  # a pronoun, one thing of its own
    ("combien de pays en ont profité ?", True),
    ("Et elle s'est tenue où ?", True),
    ("How many smugglers were arrested in it?", True),
    ("What does the Global Programme on Cybercrime do and how does it train judges and prosecutors?",
     False),  # names enough of its own
    ("L'Office collabore-t-il avec les casques bleus ?", False),  # inversion: the question's own subject
    ("Which General Assembly resolution requested this report?", False),  # the report itself
    ("What is being done so that jails do not breed extremists?", False),
])
def test_a_question_pointing_back_is_a_follow_up(question, follows):
    assert is_follow_up(question) is follows


def test_no_history_no_rewrite():
    assert standalone_question("et en 2018 ?", []) == "et en 2018 ?"
    assert not is_follow_up("How many States are parties to the Convention?")


def test_settings_from_env(tmp_path):
    s = Settings.from_env({"ASSISTANT_K": "7", "ASSISTANT_INDEX_DIR": str(tmp_path), "ASSISTANT_LLM": ""})
    assert s.k == 7 and s.index_dir == tmp_path and s.llm is None
    with pytest.raises(ValueError, match="ASSISTANT_K"):
        Settings.from_env({"ASSISTANT_K": "seven"})
    with pytest.raises(TypeError, match="unknown setting"):
        Settings().replace(nope=1)
    # A yes/no setting: "0" and "false" are no (a non-empty string would read as yes).
    assert Settings.from_env({"ASSISTANT_ONNX_SPINNING": "0"}).onnx_spinning is False
    assert Settings.from_env({"ASSISTANT_ONNX_SPINNING": " Off"}).onnx_spinning is False
    assert Settings.from_env({"ASSISTANT_ONNX_SPINNING": "true"}).onnx_spinning is True
    with pytest.raises(ValueError, match="ASSISTANT_ONNX_SPINNING"):
        Settings.from_env({"ASSISTANT_ONNX_SPINNING": "sometimes"})


@pytest.mark.parametrize("text, expected", [
    ("la quatorzième session et le treizième Congrès", {14, 13}),
    ("the fifteenth Crime Congress, its twenty-ninth session", {15, 29}),
    ("la vingt et unième et la soixante-quinzième sessions", {21, 75}),
    ("the 14th Congress, le 15e Congrès", {14, 15}),
    ("the first and second cycles", {1, 2}),
    ("En 2019, 12 États ; secondaire, premiers pas", set()),
])
def test_ordinals_of_both_languages(text, expected):
    assert ordinals(text) == expected

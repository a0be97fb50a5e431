"""The generative mode: verification with a scripted chat model (fast), and a real local model
(marked ``llm``: needs the extras ``llm`` and ``llm-test-model``)."""

from __future__ import annotations

import importlib.util
import os

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant import answer, load_report
from assistant.compose import generate
from assistant.compose.citations import numbers_outside_citations
from assistant.settings import Settings
from assistant.text import numbers

REPORT = load_report()


def _cited(a) -> list[int]:
    """The paragraph numbers an answer cites (all of the one document the library holds)."""
    assert all(c.document == REPORT.doc_id for c in a.citations)
    return [c.paragraph for c in a.citations]


QUESTION = "Combien d'États sont parties à la Convention contre la corruption ?"


def _with_model(monkeypatch, *responses: str) -> Settings:
    fake = FakeListChatModel(responses=list(responses))
    monkeypatch.setattr(generate, "chat_model", lambda spec, threads=2: fake)
    return Settings(llm="fake:scripted")


@pytest.mark.model
def test_a_verified_generated_answer(monkeypatch):
    settings = _with_model(monkeypatch, "La Convention contre la corruption comptait 187 parties (§46).")
    a = answer(QUESTION, settings)
    assert a.mode == "generative" and _cited(a) == [46] and a.warnings == []
    assert a.text == "La Convention contre la corruption comptait 187 parties (§46)."


@pytest.mark.model
def test_invented_citations_and_unsupported_numbers_are_removed(monkeypatch):
    settings = _with_model(monkeypatch,
                           "La Convention comptait 187 parties (§46, §99). Elle en aura 250 en 2030 (§46). "
                           "Le rapport le dit sans source.")
    a = answer(QUESTION, settings)
    assert _cited(a) == [46] and "§99" not in a.text and "250" not in a.text and "sans source" not in a.text
    assert any("not retrieved" in w for w in a.warnings)
    assert any("numbers" in w for w in a.warnings) and any("without a valid citation" in w for w in a.warnings)
    cited = " ".join(REPORT.paragraph(n).text for n in _cited(a))
    assert all(n in numbers(cited) for n in numbers(numbers_outside_citations(a.text)))


@pytest.mark.model
@pytest.mark.parametrize("generated", [
    "La Convention contre la corruption comptait 187 parties. (§46).",  # the citation split off
    "(§46). La Convention contre la corruption comptait 187 parties (§46).",  # a citation alone first
])
def test_a_citation_standing_alone_is_not_a_crash(monkeypatch, generated):
    a = answer(QUESTION, _with_model(monkeypatch, generated))
    assert a.mode == "generative" and _cited(a) == [46]
    assert a.text == "La Convention contre la corruption comptait 187 parties (§46)."


@pytest.mark.model
def test_nothing_verified_falls_back_to_the_extractive_answer(monkeypatch):
    settings = _with_model(monkeypatch, "Il y a 999 parties (§46).")
    a = answer(QUESTION, settings)
    assert a.mode == "extractive" and 46 in _cited(a) and "187" in a.text
    assert any("extractive answer shown" in w for w in a.warnings)


@pytest.mark.model
@pytest.mark.parametrize("question", ["What is the capital of Australia?",
                                      "Qui a gagné le prix Nobel de la paix 2019 ?"])
def test_a_question_the_report_does_not_answer_never_reaches_the_model(monkeypatch, question):
    # What both real models wrote for the first (citing a paragraph on something else).
    settings = _with_model(monkeypatch, "The capital of Australia is Canberra (§17).")
    a = answer(question, settings)
    assert a.abstained and _cited(a) == [] and "Canberra" not in a.text


@pytest.mark.model
def test_a_model_abstention_the_paragraphs_contradict_shows_the_evidence(monkeypatch):
    settings = _with_model(monkeypatch, "Le rapport ne le dit pas.")
    a = answer(QUESTION, settings)
    assert not a.abstained and a.mode == "extractive" and 46 in _cited(a)
    assert any("extractive answer shown" in w for w in a.warnings)


@pytest.mark.model
def test_tokens_stream_to_the_caller(monkeypatch):
    settings = _with_model(monkeypatch, "La Convention comptait 187 parties (§46).")
    tokens: list[str] = []
    a = answer(QUESTION, settings, on_token=tokens.append)
    assert len(tokens) > 3 and "".join(tokens) == "La Convention comptait 187 parties (§46)."
    assert _cited(a) == [46]


def test_unknown_llm_setting_is_a_clear_error():
    generate.chat_model.cache_clear()
    with pytest.raises(ValueError, match="unknown llm setting"):
        generate.chat_model("gpt:whatever")


@pytest.mark.llm
@pytest.mark.model
@pytest.mark.parametrize("question, paragraph, fact", [
    (QUESTION, 46, "187"),
    ("How many victims of trafficking were identified in Malawi?", 41, "228"),
])
def test_real_local_model(question, paragraph, fact):
    # `make test` installs the runtime and the model; elsewhere (a bare pytest) they may be missing.
    if importlib.util.find_spec("llama_cpp") is None and not os.environ.get("CI"):
        pytest.skip("llama-cpp-python is not installed (make test installs it)")
    path = generate.packaged_gguf("qwen2.5-coder-0.5b-instruct", Settings())
    a = answer(question, Settings(llm=f"llamacpp:{path}"))
    # Whatever the small model wrote, what is shown passed verification (or is the fallback).
    assert a.mode in ("generative", "extractive") and (a.abstained or _cited(a))
    cited = " ".join(REPORT.paragraph(n).text for n in _cited(a))
    assert all(n in numbers(cited) for n in numbers(numbers_outside_citations(a.text)))
    assert set(_cited(a)) <= {p.paragraph for p in a.passages}

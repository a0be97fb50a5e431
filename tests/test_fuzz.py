"""Property-based fuzzing (hypothesis) of answer(), retrieve(), the follow-up rewriting, the /ask
API and the parser. The strategies and the properties live in assistant/evaluation/fuzz.py (see
its docstring); `python -m assistant.evaluation.fuzz` runs the long campaign by hand and prints
its figures.

The fast tier runs a bounded number of examples per test; `test_fuzz_long` (marker fuzz_long,
run by `make test`) makes 10,000 calls to answer(). Every run starts from a fixed seed
(FUZZ_SEED, default assistant.evaluation.fuzz.DEFAULT_SEED) and keeps no example database, so a
failure is reproduced by running again; hypothesis prints the shrunk failing example.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import SEED as SEED_REPORT
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from assistant import ReportParseError, answer, load_report, retrieve
from assistant.compose.conversation import standalone_question
from assistant.evaluation import fuzz
from assistant.records import Answer, Citation, Passage, Quote

SEED = int(os.environ.get("FUZZ_SEED", fuzz.DEFAULT_SEED))
LONG_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", fuzz.DEFAULT_EXAMPLES))
FIXTURES = Path(__file__).parent / "fixtures"


def bounded(examples: int):
    """The fast tier's settings: a fixed seed, no database, no deadline (the first call loads
    the model)."""
    def decorate(test):
        return seed(SEED)(settings(max_examples=examples, database=None, deadline=None, print_blob=True,
                                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])(test))
    return decorate


# --- answer() and retrieve() --------------------------------------------------------------------

@pytest.mark.model
@bounded(100)
@given(fuzz.calls())
def test_answer_gives_a_sound_answer_or_a_value_error(call):
    try:
        result = answer(call.question, history=call.history, **call.overrides)
    except ValueError:
        return
    assert fuzz.check_answer(result, fuzz.effective_k(call)) == []
    assert fuzz.same_answer(result, answer(call.question, history=call.history, **call.overrides))


@pytest.mark.model
@bounded(60)
@given(fuzz.questions() | fuzz.not_text(),
       st.one_of(st.integers(-2, 12), st.none(), st.floats(), st.text(max_size=2), st.booleans()))
def test_retrieve_and_answer_agree(question, k):
    """retrieve(q, k) and answer(q, k=k) accept and refuse alike, and retrieve the same passages
    (retrieve(q, k=0) returned 5 passages while answer(q, k=0) said the report does not say)."""
    try:
        passages = retrieve(question, k=k)
    except ValueError as refused:
        with pytest.raises(ValueError) as also:
            answer(question, k=k)
        assert str(also.value) == str(refused)
        return
    numbers = {p.number for p in load_report().paragraphs}
    assert 0 < len(passages) <= k and all(isinstance(p, Passage) for p in passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert all(p.paragraph is None or p.paragraph in numbers for p in passages)
    assert answer(question, k=k).passages == passages


@pytest.mark.model
def test_threads_give_the_answers_one_thread_gives():
    """8 threads gave the answers one thread gives (8 x 968 calls in the issue); they must still."""
    questions = [*fuzz.seed_questions()[:16], *(f"{q} {suffix}" for q, suffix in
                                                 zip(fuzz.seed_questions()[16:32], fuzz.HOSTILE, strict=False))]
    alone = [answer(q) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(answer, questions * 2))
    assert all(fuzz.same_answer(a, b) for a, b in zip(alone * 2, together, strict=True))


# --- the follow-up rewriting ----------------------------------------------------------------------

FOLLOW_UPS = ["et en 2018 ?", "and in 2018?", "what about firearms?", "et pour le Kenya ?", "qu'en est-il du §46 ?",
              "même question pour 2017", "et", "and", "2018 ?", "Kenya ?"]


@bounded(400)
@given(st.one_of(st.sampled_from(FOLLOW_UPS), fuzz.askable_questions(), fuzz.any_text(40)).map(str.strip),
       st.lists(st.one_of(st.sampled_from(fuzz.seed_questions()), fuzz.any_text(40)).map(str.strip), max_size=3))
def test_follow_up_rewriting_is_total_and_bounded(question, previous):
    previous = [p for p in previous if p]  # what validation hands it: cleaned, blanks left out
    result = standalone_question(question, previous)
    assert isinstance(result, str)
    if not previous:
        assert result == question
    else:
        assert len(result) <= len(question) + len(previous[-1]) + 5
        assert result or not (question or previous[-1])


# --- the /ask API, on the real server --------------------------------------------------------------

def _answer_from(data: dict) -> Answer:
    return Answer(**{**data, "passages": [Passage(**{**p, "section": tuple(p["section"])}) for p in data["passages"]],
                     "quotes": [Quote(**q) for q in data["quotes"]],
                     "citations": [Citation(**c) for c in data["citations"]]})


@pytest.mark.server
@bounded(40)
@given(st.one_of(fuzz.questions(), st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=2)),
       st.one_of(st.integers(-2, 12), st.none(), st.text(max_size=3), st.floats(allow_nan=False), st.booleans()))
def test_ask_api_answers_or_says_what_is_wrong(server_url, question, k):
    """Over plain HTTP (a JSON body can carry what gradio_client cannot: a lone surrogate): a
    sound answer equal to answer()'s, or an error event carrying answer()'s ValueError message,
    never the server's anonymous error (a crash) nor a traceback in its output."""
    from conftest import SERVER_LOG
    from test_server import call_raw

    event, data = call_raw(server_url, question, k)
    try:
        local = answer(question, k=k)
    except ValueError as refused:
        assert event == "error" and isinstance(data, dict) and data.get("error") == str(refused), (event, data)
    else:
        assert event == "complete", (event, data)
        remote = _answer_from(data[0])
        assert fuzz.check_answer(remote) == []
        assert (remote.text, remote.citations) == (local.text, local.citations)
    assert not any("Traceback" in line for line in SERVER_LOG)


# --- the parser ---------------------------------------------------------------------------------------

SOURCES = {"mini": (FIXTURES / "mini_report.md").read_text(encoding="utf-8"),
           "report": SEED_REPORT.read_text(encoding="utf-8")}
STRUCTURE = ["## VII. Nouvelle section", "### Z. Partie", "#### 9. Détail", "## Sans numéro", "5. Un paragraphe.",
             "117. Au-delà.", "0. Zéro.", "<sup>1</sup> note", "<sup>9</sup> note orpheline", "Texte<sup>7</sup>.",
             "---", "#", "1.", "99999999999. Trop.", "9" * 5000 + ". Énorme.", "<sup>" + "1" * 5000 + "</sup> x",
             "[lien](http://x) *a", "b* \\_", "Résumé", "# Résumé"]


@st.composite
def documents(draw) -> bytes:
    """The mini report or the real one, with lines deleted, doubled, swapped, inserted (structure
    and arbitrary text), characters replaced, the text cut, or bytes that are not UTF-8."""
    source = SOURCES[draw(st.sampled_from(sorted(SOURCES)))]
    lines = source.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        op, at = draw(st.integers(0, 6)), draw(st.integers(0, max(0, len(lines) - 1)))
        if op == 0 and lines:
            del lines[at]
        elif op == 1 and lines:
            lines.insert(at, lines[at])
        elif op == 2 and lines:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif op == 3:
            lines.insert(at, draw(st.sampled_from(STRUCTURE)))
        elif op == 4:
            lines.insert(at, draw(fuzz.any_text(30)).replace("\r", " ").replace("\n", " "))
        elif op == 5 and lines:
            line = lines[at]
            pos = draw(st.integers(0, len(line)))
            lines[at] = line[:pos] + draw(st.sampled_from(fuzz.HOSTILE[:30])) + line[pos + 1:]
        else:
            lines = lines[:at]
    text = "\n".join(lines) + "\n"
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate stays an (invalid) byte sequence
    if draw(st.integers(0, 9)) == 0:
        data += draw(st.sampled_from([b"\xff\xfe", b"\xc3", b"\x80abc", b"\xed\xa0\x80"]))
    return data


@bounded(150)
@given(documents())
def test_the_parser_parses_or_names_the_line(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.md"
        path.write_bytes(data)
        try:
            report = load_report(path)
        except ReportParseError as exc:
            assert exc.line >= 1 and str(exc).startswith(f"line {exc.line}: ")
            return
    assert [p.number for p in report.paragraphs] == list(range(1, len(report.paragraphs) + 1))
    assert all(p.section for p in report.paragraphs)
    assert sum(len(p.footnotes) for p in report.paragraphs) == len(report.footnotes)
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert all(report.paragraph(p.number) is p for p in report.paragraphs)


# --- the long run ----------------------------------------------------------------------------------------

@pytest.mark.fuzz_long
@pytest.mark.model
def test_fuzz_long():
    """10,000 generated calls to answer() (FUZZ_EXAMPLES to change): no crash, no property
    violated; most calls reach retrieval. Prints the figures (python -m assistant.evaluation.fuzz
    prints the same)."""
    report = fuzz.run(LONG_EXAMPLES, SEED)
    print("\n" + report.summary())
    assert report.crashes == [] and report.violations == []
    assert report.answered >= 0.5 * LONG_EXAMPLES

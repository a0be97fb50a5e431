"""Property-based fuzzing of ``answer()`` (and the strategies and checks ``tests/test_fuzz.py``
uses for ``retrieve()``, the follow-up rewriting, the ``/ask`` API and the parser).

    python -m assistant.evaluation.fuzz [--examples 10000] [--seed 16]

prints how many calls were made, the seed, how many reached retrieval, the crashes (any exception
but ``ValueError``) and property violations with a reproducer each, the p50/p99 latency and the
growth of the process's memory (RSS). Needs ``hypothesis`` (the ``dev`` extra).

The calls mix the reference questions (as asked, and mutated: characters inserted, deleted,
doubled, swapped for hostile ones such as lone surrogates, control characters, markup, maths),
references to paragraphs and sections that do and do not exist, arbitrary Unicode (surrogates
included), lengths around the 2,000-character limit, values that are not text, histories of
every shape, and setting overrides of every type. Most calls are questions that can be asked,
so that retrieval and the answer composer are exercised, not only the checks at the door.

The properties of every call: it returns an ``Answer`` or raises ``ValueError`` (nothing else);
the citations are paragraphs of the library's documents, are the quoted paragraphs in order, and
were retrieved; every quote is a verbatim sentence (or, for a paragraph asked for by number, the
whole text) of the paragraph it cites, and stands in the text with its citation mark; an answer
that abstains cites nothing and one that does not cites something; the same call gives the same
answer.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from functools import cache, lru_cache

from hypothesis import HealthCheck, Phase, given
from hypothesis import seed as hypothesis_seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ..records import Answer, Citation, Report
from ..validation import SETTING_KINDS

DEFAULT_SEED = 16  # the number; any fixed seed makes a run reproducible
DEFAULT_EXAMPLES = 10_000

# Strings that broke, or could break, something between the request and the screen.
HOSTILE = [
    "\ud83d", "\udc00", "\ud83d\ude00", "\udfff\ud800", "\x00", "\x07", "\x1b[31m", "\x7f", "\r\n", "\u2028",
    "\u202e", "\ufeff", "\u200b", "\ufffd", "\uffff", "🙂", "e\u0301", "ﬁ", "İ", "ß", "\u0130\u0131",
    "<script>window.__xss=1</script>", '<img src=x onerror="alert(1)">', "[x](javascript:alert(1))",
    "![x](http://evil/x.png)", "$$x^2$$", "$x$", "\\(a\\)", "> citation", "# titre", "1. liste", "---", "===",
    "**gras**", "`code`", "&gt;", "&amp;lt;", "'; DROP TABLE paragraphs; --", "{{7*7}}", "%s%n%x",
    "../../etc/passwd", "NaN", "-1", "1e309", "§", "§§", "§-1", "§0", "§200", "§ 46", "§117", "§1000",
    "paragraphe 117", "paragraph 0", "para. 12", "section IX.Z", "partie G de la section IV", "IV.E.9",
    "Part VII", "section IV.F.3", "IX.Z", "et en 2018 ?", "and in 2018?", "what about firearms?", "?", "¿", "…",
]
REFERENCES = ["§{n}", "§ {n}", "le §{n}", "paragraphe {n}", "paragraph {n}", "para. {n}", "paragraphs {n}",
              "section {roman}", "section {roman}.{letter}", "partie {letter} de la section {roman}",
              "part {letter} of section {roman}", "{roman}.{letter}", "chapitre {roman}"]
ROMANS = ["I", "II", "III", "IV", "V", "VI", "VII", "IX", "X", "L", "C"]
LETTERS = ["A", "C", "E", "F", "G", "Z", "1", "3", "9"]
TEMPLATES = ["Que dit le rapport sur {x} ?", "What does the report say about {x}?", "Combien de {x} ?",
             "{x}", "Que dit {x} ?", "What does {x} say?", "Résume {x}", "{x} ?"]
# Setting overrides: what a caller may pass as a keyword. The search and answer settings get
# fitting values and wrong ones; every other setting (what decides the index, the model, serving)
# only values that are refused, so that a run never builds an index elsewhere or loads a second model.
SEARCH_FIELDS = ["k", "candidates", "rrf_k", "max_quotes", "lexical_weight", "dense_weight", "sentence_weight",
                 "heading_weight", "passage_rank_weight", "paragraph_weight", "overlap_weight", "abstain_standout",
                 "runner_up_margin", "same_paragraph_margin", "max_question_chars", "held_bonus", "held_terms",
                 "held_spare_from", "amount_paragraphs", "count_window", "ranked_window"]
# Every other setting (what decides the index, the model, serving): only refused values.
OTHER_FIELDS = sorted(set(SETTING_KINDS) - set(SEARCH_FIELDS))


@dataclass(frozen=True)
class Call:
    """One call of ``answer(question, history=history, **overrides)``."""

    question: object
    history: object = None
    overrides: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        extra = "".join([f", history={self.history!r}" if self.history is not None else "",
                         *(f", {k}={v!r}" for k, v in self.overrides.items())])
        return f"answer({self.question!r}{extra})"


@lru_cache(maxsize=1)
def seed_questions() -> tuple[str, ...]:
    """The reference questions (evals/questions.jsonl): what people ask."""
    from .evaluate import load_questions

    return tuple(q.question for q in load_questions())


def _mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply edits (kind, position, piece): insert, delete, replace, double, upper, truncate."""
    for kind, position, piece in edits:
        at = position % (len(text) + 1)
        if kind == 0:
            text = text[:at] + piece + text[at:]
        elif kind == 1:
            text = text[:at] + text[at + len(piece) + 1:]
        elif kind == 2:
            text = text[:at] + piece + text[at + len(piece):]
        elif kind == 3:
            text = text[:at] + text[at:at + 8] * 2 + text[at + 8:]
        elif kind == 4:
            text = text.upper() if position % 2 else text.lower()
        else:
            text = text[:at]
    return text


# The strategy factories are cached: calls() draws from them for every example, and building a
# strategy afresh each time cost more than running most calls.
@cache
def any_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Any Unicode text, lone surrogates included (hypothesis leaves them out by default)."""
    return st.text(st.characters(exclude_categories=()), max_size=max_size)


@cache
def piece() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE), any_text(6), st.sampled_from(["2018", "2019", "1995", "187", " "]))


@cache
def references() -> st.SearchStrategy[str]:
    """A paragraph or a section named, existing or not ("§200", "partie G de la section IV")."""
    return st.builds(lambda form, n, roman, letter: form.format(n=n, roman=roman, letter=letter),
                     st.sampled_from(REFERENCES), st.one_of(st.integers(-3, 130), st.integers(-10**12, 10**12)),
                     st.sampled_from(ROMANS), st.sampled_from(LETTERS))


@cache
def askable_questions() -> st.SearchStrategy[str]:
    """What a person might type: a reference question, mutated or not, a reference, markup."""
    seeds = st.sampled_from(seed_questions())
    edits = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 10_000), piece()), min_size=1, max_size=4)
    templated = st.builds(lambda template, x: template.format(x=x), st.sampled_from(TEMPLATES),
                          st.one_of(references(), st.sampled_from(HOSTILE), any_text(20)))
    return st.one_of(seeds, st.builds(_mutate, seeds, edits), templated,
                     st.builds(lambda a, b: f"{a} {b}", seeds, st.sampled_from(HOSTILE)))


@cache
def wild_questions() -> st.SearchStrategy[str]:
    """Arbitrary Unicode, hostile strings alone, lengths around the 2,000-character limit."""
    near_limit = st.builds(lambda unit, n, tail: (unit * n)[:n] + tail,
                           st.sampled_from(["x", " ", "é", "\ud83d", "§1 ", "ONUDC ", "\x00", "🙂"]),
                           st.integers(1990, 2010), st.sampled_from(["", " ?", "\n"]))
    return st.one_of(any_text(200), st.sampled_from(HOSTILE), references(), near_limit)


@cache
def questions() -> st.SearchStrategy[str]:
    return st.one_of(askable_questions(), wild_questions())


@cache
def not_text() -> st.SearchStrategy[object]:
    return st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=12), st.booleans(),
                     st.lists(st.text(max_size=4), max_size=2), st.tuples(st.text(max_size=4)),
                     st.dictionaries(st.text(max_size=3), st.integers(), max_size=1))


@cache
def valid_histories() -> st.SearchStrategy[object]:
    items = st.one_of(st.sampled_from(seed_questions()), askable_questions())
    return st.one_of(st.lists(items, min_size=1, max_size=3), st.lists(items, max_size=2).map(tuple))


@cache
def any_histories() -> st.SearchStrategy[object]:
    items = st.one_of(st.sampled_from(seed_questions()), questions())
    return st.one_of(valid_histories(), questions(),  # a str: refused, not read letter by letter
                     not_text().filter(lambda v: v is not None and not isinstance(v, (list, tuple))),
                     st.lists(st.one_of(items, not_text()), min_size=1, max_size=3))


@cache
def override_values(name: str) -> st.SearchStrategy[object]:
    """Any value for the setting ``name``: fitting ones for the search and answer settings;
    for those that decide the index (paths, model, threads) and serving, only values that are
    refused, so that a run never builds an index elsewhere or loads a second model."""
    wrong = st.one_of(st.none(), st.booleans(), st.text(max_size=4), st.binary(max_size=4),
                      st.floats(allow_nan=True, allow_infinity=True), st.lists(st.integers(), max_size=1))
    if name in SEARCH_FIELDS:
        fitting = (st.integers(-3, 40) if name != "max_question_chars" else st.integers(-5, 5000))
        if SETTING_KINDS[name] != "whole":
            fitting = st.floats(-1.0, 5.0, allow_nan=False)
        return st.one_of(fitting, wrong)
    kind = SETTING_KINDS.get(name, "unknown")  # an unknown name is refused whatever its value
    if kind == "whole":  # an integral float (5.0) would be accepted: none is drawn
        return st.one_of(st.integers(max_value=-1), st.integers(min_value=10**10), st.floats(0.5, 0.9),
                         st.sampled_from([math.nan, math.inf, -math.inf]), st.none(), st.booleans(),
                         st.text(max_size=3))
    if kind == "real":
        return st.one_of(st.just(math.nan), st.just(math.inf), st.text(max_size=3), st.none())
    return st.one_of(st.integers(), st.floats(), st.booleans(), st.just(""), st.just("   "),
                     st.binary(max_size=4))  # never a usable path, model, encoder or llm spec


@cache
def valid_overrides() -> st.SearchStrategy[dict]:
    """Search and answer settings within their ranges."""
    return st.fixed_dictionaries({}, optional={
        "k": st.integers(1, 12), "candidates": st.integers(1, 60), "max_quotes": st.integers(1, 5),
        "lexical_weight": st.floats(0.0, 3.0), "heading_weight": st.floats(0.0, 1.0),
        "abstain_standout": st.floats(-1.0, 5.0), "runner_up_margin": st.floats(0.0, 0.2)})


@cache
def any_overrides() -> st.SearchStrategy[dict]:
    names = st.sampled_from([*SEARCH_FIELDS, *OTHER_FIELDS, "not_a_setting", "K", "top_k"])
    return st.just({}) | names.flatmap(
        lambda name: override_values(name).map(lambda v: {name: v})) | st.builds(
        lambda a, b: {**a, **b}, valid_overrides(), names.flatmap(
            lambda name: override_values(name).map(lambda v: {name: v})))


@st.composite
def calls(draw) -> Call:
    """About two calls in three can be answered: the question is text a person might type
    (70%), the history absent or valid (90%), the overrides absent or valid (90%); the others
    send arbitrary text, values that are not text, and histories and settings of every shape.
    (Explicit shares: hypothesis's ``one_of`` would split evenly between very unequal kinds.)"""
    roll = draw(st.integers(0, 99))
    question = draw(askable_questions() if roll < 70 else wild_questions() if roll < 90 else not_text())
    roll = draw(st.integers(0, 99))
    history = None if roll < 75 else draw(valid_histories() if roll < 90 else any_histories())
    roll = draw(st.integers(0, 99))
    overrides = {} if roll < 70 else draw(valid_overrides() if roll < 90 else any_overrides())
    return Call(question, history, overrides)


# --- the properties ------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _library() -> dict[str, Report]:
    from ..library import library_reports

    return library_reports()


def check_answer(result: Answer, k: int | None = None) -> list[str]:
    """The properties every Answer must have (the whole library searched); an empty list when it
    has them all."""
    from ..compose.citations import citation_mark, citations_of
    from ..text import sentences

    reports = _library()
    single = next(iter(reports)) if len(reports) == 1 else None
    existing = {Citation(doc, p.number) for doc, r in reports.items() for p in r.paragraphs}
    problems = []
    if not isinstance(result, Answer):
        return [f"returned {type(result).__name__}, not an Answer"]
    if not result.text or not isinstance(result.text, str):
        problems.append("empty text")
    if result.mode != "generative" and result.citations != citations_of(result.quotes):
        problems.append(f"citations {result.citations} are not the quoted paragraphs {citations_of(result.quotes)}")
    if result.citations != list(dict.fromkeys(result.citations)):
        problems.append(f"citations repeat: {result.citations}")
    if not set(result.citations) <= existing:
        problems.append(f"cites paragraphs the library does not have: {sorted(set(result.citations) - existing)}")
    retrieved = {p.citation for p in result.passages}
    # A section's outline quotes its paragraphs, retrieved or not; every other citation is of a
    # retrieved paragraph.
    if result.mode != "direct" and not set(result.citations) <= retrieved:
        problems.append(f"cites paragraphs that were not retrieved: {sorted(set(result.citations) - retrieved)}")
    if result.abstained and (result.citations or result.quotes):
        problems.append("abstained but cites or quotes")
    if not result.abstained and not result.citations:
        problems.append("answered without a citation")
    for c in result.citations:
        if citation_mark([c], single)[1:-1] not in result.text:
            problems.append(f"{c.label} is not cited in the text")
    for quote in result.quotes:
        if quote.citation not in existing:
            problems.append(f"quotes {quote.citation.label}, which does not exist")
            continue
        text = reports[quote.document].paragraph(quote.paragraph).text
        if quote.sentence not in sentences(text) and quote.sentence != text:
            problems.append(f"quote is not a sentence of {quote.citation.label}: {quote.sentence[:60]!r}")
        if f"« {quote.sentence} » {citation_mark([quote.citation], single)}" not in result.text:
            problems.append(f"quote of {quote.citation.label} is not in the text as quoted")
    if k is not None and len(result.passages) > k:
        problems.append(f"{len(result.passages)} passages for k={k}")
    if result.language not in ("fr", "en"):
        problems.append(f"language {result.language!r}")
    return problems


def same_answer(a: Answer, b: Answer) -> bool:
    """Equal but for the timings."""
    return (a.text, a.citations, a.abstained, a.quotes, a.passages, a.language, a.mode, a.standalone_question) == (
        b.text, b.citations, b.abstained, b.quotes, b.passages, b.language, b.mode, b.standalone_question)


def effective_k(call: Call) -> int | None:
    k = call.overrides.get("k")
    return int(k) if isinstance(k, (int, float)) and not isinstance(k, bool) and math.isfinite(k) else None


# --- the run ---------------------------------------------------------------------------------------

@dataclass
class FuzzReport:
    examples: int
    seed: int
    answered: int = 0
    refused: int = 0
    crashes: list[str] = field(default_factory=list)  # "Call -> exception" reproducers
    violations: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, every call
    answered_latencies: list[float] = field(default_factory=list)
    rechecked: int = 0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_samples: list[tuple[int, float]] = field(default_factory=list)  # (calls made, MB)
    seconds: float = 0.0

    def percentile(self, values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)] if ordered else 0.0

    def summary(self) -> str:
        calls = self.answered + self.refused + len(self.crashes)
        lines = [
            f"calls: {calls} (examples asked for: {self.examples}), seed: {self.seed}",
            f"answered (reached retrieval): {self.answered} ({self.answered / max(1, calls):.0%}); "
            f"refused with ValueError: {self.refused}; same call asked twice: {self.rechecked}",
            f"crashes: {len(self.crashes)}; property violations: {len(self.violations)}",
            f"latency, every call: p50 {statistics.median(self.latencies or [0]) * 1000:.1f} ms, "
            f"p99 {self.percentile(self.latencies, 0.99) * 1000:.1f} ms; answered calls: p50 "
            f"{statistics.median(self.answered_latencies or [0]) * 1000:.1f} ms, "
            f"p99 {self.percentile(self.answered_latencies, 0.99) * 1000:.1f} ms",
            f"RSS: {self.rss_start_mb:.0f} MB after warm-up, {self.rss_end_mb:.0f} MB at the end "
            f"(growth {self.rss_end_mb - self.rss_start_mb:+.0f} MB); by calls made: "
            + ", ".join(f"{n}: {mb:.0f}" for n, mb in self.rss_samples),
            f"run time: {self.seconds:.0f} s",
        ]
        lines += [f"  crash: {c}" for c in self.crashes[:20]] + [f"  violation: {v}" for v in self.violations[:20]]
        return "\n".join(lines)


def rss_mb() -> float:
    """This process's resident memory now (not the peak)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(examples: int = DEFAULT_EXAMPLES, seed: int = DEFAULT_SEED, progress: bool = False,
        recheck_every: int = 10) -> FuzzReport:
    """Fuzz ``answer()`` with ``examples`` generated calls from ``seed``; every ``recheck_every``-th
    answered call is asked again and must give the same answer."""
    from ..compose.answering import answer

    report = FuzzReport(examples, seed)
    # Warm-up: the model and the index load, and the allocators grow to what answering needs
    # (inputs from a few tokens to the 512 the model reads): growth after that is what the
    # run itself keeps.
    for question in [*seed_questions()[:30], "ONUDC " * 333]:
        answer(question)
    report.rss_start_mb = rss_mb()
    started = time.perf_counter()

    @hypothesis_seed(seed)
    @hypothesis_settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @given(calls())
    def one(call: Call) -> None:
        made = report.answered + report.refused + len(report.crashes)
        if made and made % max(1, examples // 10) == 0:
            report.rss_samples.append((made, rss_mb()))
        began = time.perf_counter()
        try:
            result = answer(call.question, history=call.history, **call.overrides)
        except ValueError:
            report.refused += 1
            report.latencies.append(time.perf_counter() - began)
            return
        except Exception as exc:  # the point of the run: anything else is a crash
            report.crashes.append(f"{call!r} -> {type(exc).__name__}: {exc}")
            report.latencies.append(time.perf_counter() - began)
            return
        took = time.perf_counter() - began
        report.latencies.append(took)
        report.answered_latencies.append(took)
        report.answered += 1
        problems = check_answer(result, effective_k(call))
        if report.answered % recheck_every == 0:
            report.rechecked += 1
            if not same_answer(result, answer(call.question, history=call.history, **call.overrides)):
                problems.append("the same call gave another answer")
        report.violations += [f"{call!r}: {p}" for p in problems]
        done = report.answered + report.refused + len(report.crashes)
        if progress and done % 500 == 0:
            print(f"  {done} calls, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    one()
    report.seconds = time.perf_counter() - started
    report.rss_end_mb = rss_mb()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.evaluation.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", DEFAULT_SEED)))
    args = parser.parse_args(argv)
    report = run(args.examples, args.seed, progress=sys.stderr.isatty())
    print(report.summary())
    return 1 if report.crashes or report.violations else 0


if __name__ == "__main__":
    sys.exit(main())

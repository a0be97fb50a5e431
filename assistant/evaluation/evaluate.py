"""Score the assistant against reference questions: retrieval, citations, answers, abstention,
latency; with BM25-only and dense-only baselines side by side.

Definitions (also printed in every report):
- Ranks count the paragraphs among the top units (a heading or the summary takes a slot but is
  not a paragraph, except that for a question about a section its heading counts as a hit).
  Hit@k: a gold paragraph among the top k units. Recall@5: gold paragraphs among the top 5, over
  min(gold paragraphs, 5) (a section question has up to 13 gold). MRR@10 and nDCG@10 (binary
  gains) over the top 10; a paragraph counts once.
- A question's gold paragraphs are paragraphs of its ``document`` (the file's questions without
  one are about the seed report, ``QUESTIONS_DOCUMENT``); a paragraph of another document with the
  same number is no hit.
- Right document: an answered question whose first citation is of its document.
- Citation precision: cited paragraphs that are gold or contain a key fact, over all cited.
  Citation recall: for a multi-paragraph question, the share of its gold paragraphs cited; for
  any other, 1 if a gold paragraph is cited (their gold lists alternatives).
- Key-fact coverage: share of key facts found in the answer (numbers compared after
  normalising spaces, commas and non-breaking spaces); an abstention covers none.
- Abstention: share of unanswerable questions abstained on; share of answerable ones wrongly
  abstained on.
- Number violations: numbers in an answer (citation marks aside) that stand in none of the
  paragraphs it cites.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..compose.answering import answer
from ..compose.citations import numbers_outside_citations
from ..compose.conversation import standalone_question
from ..records import Answer, Report
from ..search.retrieval import get_retriever
from ..settings import ROOT, Settings
from ..text import fold, numbers

QUESTIONS = ROOT / "evals" / "questions.jsonl"
#: Questions on the ten sample reports (tests/fixtures/un-samples), each naming its document.
QUESTIONS_SAMPLES = ROOT / "evals" / "questions_samples.jsonl"
#: The document the questions of a file without a "document" field are about: the seed report,
#: which ``evals/questions.jsonl`` was written for.
QUESTIONS_DOCUMENT = "unodc-crime-prevention-report-2020"
RESULTS = ROOT / "evals" / "results"
FLOORS = ROOT / "evals" / "floors.json"
# "reworded" is a type of the questions written before 2026-12 (a question worded unlike the
# report); later questions carry it as a style, beside their type. "fact" and "date" are types of
# the questions on the sample reports (evals/questions_samples.jsonl).
TYPES = ("number", "name", "descriptive", "reworded", "multi", "section", "unanswerable", "fact", "date")
STYLES = ("reworded", "sloppy", "followup")
LANGS = ("fr", "en")
SPLITS = ("dev", "test")
#: Cross-validation folds of the dev split (by paragraph: a paragraph's questions stay together).
FOLDS = 5
#: A question sharing less than this share of its content words with its gold text is "low".
LOW_OVERLAP = 0.5


class QuestionFileError(ValueError):
    """A malformed question file; the message names the line."""


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    type: str
    split: str
    question: str
    gold: tuple[int, ...]
    answer: str
    key_facts: tuple[str, ...]
    #: "reworded", "sloppy" (no accents, typos, telegraphic), "followup" (asked after ``history``).
    style: tuple[str, ...] = ()
    #: The conversation's earlier questions, oldest first, for a follow-up.
    history: tuple[str, ...] = ()
    #: For an unanswerable question on a topic the report covers: the paragraphs that cover it.
    near: tuple[int, ...] = ()
    #: Who wrote it and how ("authored" while reading the report, "blind-…" from its meaning only).
    source: str = "authored"
    #: The document (id) it is about, as the file gives it ("" in the seed's file).
    document: str = ""

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"

    @property
    def gold_document(self) -> str:
        """The document its gold and near paragraphs belong to."""
        return self.document or QUESTIONS_DOCUMENT

    @property
    def anchor(self) -> int | None:
        """The paragraph a question is about (its first gold, or the one its topic is near):
        folds and splits are made by it, so questions on one paragraph never straddle two."""
        return min(self.gold or self.near, default=None)

    @property
    def assigned_split(self) -> str:
        """The split its anchor paragraph belongs to: about a quarter of the paragraphs (and of
        the off-topic questions) are test, drawn by hash so that new questions fall in place."""
        return "test" if _draw(f"test:{self._anchor_key}", 4) == 0 else "dev"

    @property
    def fold(self) -> int:
        """Its cross-validation fold: by anchor paragraph, off-topic questions by id."""
        return _draw(self._anchor_key, FOLDS)

    @property
    def _anchor_key(self) -> str:
        if self.anchor is None:
            return self.id
        # The seed's questions name no document: their keys (and so their splits) stay as drawn.
        return f"{self.document}#{self.anchor}" if self.document else str(self.anchor)


def _draw(key: str, buckets: int) -> int:
    """A stable bucket for ``key``: the same on every machine and run, unlike ``hash()``."""
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % buckets


def load_questions(path: Path = QUESTIONS, split: str | None = None) -> list[Question]:
    """Read a JSON Lines question file; ``QuestionFileError`` names the first bad line."""
    out, seen = [], set()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"{path}: cannot read: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = Question(id=str(row["id"]), lang=row["lang"], type=row["type"], split=row.get("split", "test"),
                         question=row["question"], gold=tuple(int(g) for g in row["gold"]),
                         answer=row.get("answer", ""), key_facts=tuple(row.get("key_facts", [])),
                         style=tuple(row.get("style", ())), history=tuple(row.get("history", ())),
                         near=tuple(int(n) for n in row.get("near", ())), source=row.get("source", "authored"),
                         document=str(row.get("document") or ""))
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise QuestionFileError(f"{path}:{n}: missing or malformed field ({exc})") from exc
        checks = [
            (q.lang not in LANGS, f"lang {q.lang!r} is not one of {LANGS}"),
            (q.type not in TYPES, f"type {q.type!r} is not one of {TYPES}"),
            (q.split not in SPLITS, f"split {q.split!r} is not one of {SPLITS}"),
            (any(x not in STYLES for x in q.style), f"style {list(q.style)} not within {STYLES}"),
            (not all(isinstance(h, str) and h.strip() for h in q.history), "history must be questions"),
            (("followup" in q.style) != bool(q.history), "a follow-up (and only one) has a history"),
            (not q.question.strip(), "empty question"),
            (q.id in seen, f"duplicate id {q.id}"),
            (q.answerable and not q.gold, "an answerable question needs gold paragraphs"),
            (not q.answerable and bool(q.gold), "an unanswerable question cannot have gold paragraphs"),
        ]
        problems = [message for bad, message in checks if bad]
        if problems:
            raise QuestionFileError(f"{path}:{n}: {'; '.join(problems)}")
        seen.add(q.id)
        if split is None or q.split == split:
            out.append(q)
    if not out:
        raise QuestionFileError(f"{path}: no questions" + (f" in split {split!r}" if split else ""))
    return out


def _contains_fact(text: str, fact: str) -> bool:
    """Numbers compare after normalising separators; words compare folded (case, accents)."""
    fact_numbers = numbers(fact)
    if fact_numbers:
        text_numbers = set(numbers(text))
        if not all(n in text_numbers for n in fact_numbers):
            return False
        words = [w for w in fold(fact).split() if not any(c.isdigit() for c in w)]
        return all(w in fold(text) for w in words)
    return fold(fact) in fold(text)


Library = dict[str, Report]


def as_library(reports: Library | Report) -> Library:
    """doc id -> Report; a lone Report is a library of one."""
    return {reports.doc_id: reports} if isinstance(reports, Report) else reports


def check_questions(questions: list[Question], reports: Library | Report) -> list[str]:
    """Problems with the references themselves: documents the library does not hold, gold
    paragraphs that do not exist, key facts that stand in none of the gold paragraphs (or their
    section headings)."""
    problems = []
    library = as_library(reports)
    for q in questions:
        report = library.get(q.gold_document)
        if report is None:
            problems.append(f"{q.id}: document {q.gold_document} is not in the library")
            continue
        numbers_ = {p.number for p in report.paragraphs}
        missing = [g for g in q.gold if g not in numbers_]
        if missing:
            problems.append(f"{q.id}: gold paragraphs {missing} do not exist")
            continue
        texts = [report.paragraph(g).text + " " + " ".join(report.paragraph(g).section) for g in q.gold]
        for fact in q.key_facts:
            if not any(_contains_fact(t, fact) for t in texts):
                problems.append(f"{q.id}: key fact {fact!r} is in none of the gold paragraphs {list(q.gold)}")
    return problems


# Words that ask rather than say what about: not content, though no stop-word list holds them.
_QUESTION_WORDS = ("combien comment pourquoi quand où qui que quoi quel quelle quels quelles lequel laquelle "
                   "lesquels lesquelles how many much what which when where who whom whose why")


def content_overlap(question: str, gold_texts: list[str]) -> float:
    """The share of the question's content words that its gold text uses: stemmed, accents
    folded, stop words out (the lexical index's own tokens, so an English word meets a French
    one only when they are spelt alike). NaN for a question without content words.

    Why it is measured: a question written while reading a paragraph reuses its words, and on
    such questions anything lexical looks like a gain; users ask in their own words."""
    from ..search.lexical import tokenize

    asked = set(tokenize(question)) - set(tokenize(_QUESTION_WORDS))
    if not asked:
        return math.nan
    held = set().union(*(tokenize(t) for t in gold_texts)) if gold_texts else set()
    return round(len(asked & held) / len(asked), 4)


def question_overlap(q: Question, reports: Library | Report) -> float:
    """``content_overlap`` of a question with its gold paragraphs (NaN when unanswerable)."""
    report = as_library(reports).get(q.gold_document)
    if not q.gold or report is None:
        return math.nan
    return content_overlap(q.question, [report.paragraph(g).text for g in q.gold
                                        if any(p.number == g for p in report.paragraphs)])


def overlap_band(overlap: float | None) -> str | None:
    if overlap is None or math.isnan(overlap):
        return None
    return "low" if overlap < LOW_OVERLAP else "high"


@dataclass
class QuestionResult:
    id: str
    lang: str
    type: str
    ranked: list[int]  # its document's paragraphs in the top 10 units, best first (None slots dropped)
    ranked_units: int
    hit1: float
    hit5: float
    recall5: float
    mrr10: float
    ndcg10: float
    # answer metrics (None for retrieval-only baselines)
    cited: list[str] | None = None  # citation labels, "S/2025/303 §12"
    citation_precision: float | None = None
    citation_recall: float | None = None
    fact_coverage: float | None = None
    abstained: bool | None = None
    number_violations: list[str] = field(default_factory=list)
    latency: float | None = None
    text: str = ""
    error: str | None = None
    style: list[str] = field(default_factory=list)
    overlap: float | None = None
    fold: int | None = None
    document: str = ""
    #: 1.0 when the first citation is of the question's document (an answered question), else 0.0.
    right_document: float | None = None


def _rank_metrics(q: Question, units: list, reports: Library | Report) -> dict:
    gold = set(q.gold)
    document = q.gold_document
    report = as_library(reports)[document]
    sections = {report.paragraph(g).section for g in gold}
    # For a question about a section, the section's heading unit is a right answer too. A unit of
    # another document takes a slot and is never a hit.
    ranked = [None if p.document != document else p.paragraph if p.paragraph is not None or q.type != "section" else
              (min(gold) if all(s[:len(p.section)] == p.section for s in sections) else None)
              for p in units[:10]]
    ranked = [r if r not in ranked[:i] else None for i, r in enumerate(ranked)]  # a paragraph counts once
    if not gold:
        return {"ranked": [r for r in ranked if r], "ranked_units": len(ranked), "hit1": math.nan,
                "hit5": math.nan, "recall5": math.nan, "mrr10": math.nan, "ndcg10": math.nan}
    top5 = {r for r in ranked[:5] if r}
    first = next((i for i, r in enumerate(ranked) if r in gold), None)
    dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(ranked) if r in gold)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(gold), 10)))
    return {"ranked": [r for r in ranked if r], "ranked_units": len(ranked),
            "hit1": float(bool(ranked) and ranked[0] in gold), "hit5": float(bool(top5 & gold)),
            "recall5": len(top5 & gold) / min(len(gold), 5), "mrr10": 0.0 if first is None else 1 / (first + 1),
            "ndcg10": dcg / ideal}


def _answer_metrics(q: Question, a: Answer, reports: Library | Report) -> dict:
    library = as_library(reports)
    cited = a.citations
    gold = set(q.gold)
    document = q.gold_document

    def text_of(c) -> str:
        return library[c.document].paragraph(c.paragraph).text

    def supports(c) -> bool:
        return (c.document == document and c.paragraph in gold) or any(_contains_fact(text_of(c), f)
                                                                       for f in q.key_facts)
    valid = [c for c in cited if c.document in library
             and any(p.number == c.paragraph for p in library[c.document].paragraphs)]
    precision = (sum(supports(c) for c in valid) / len(cited)) if cited else math.nan
    in_document = {c.paragraph for c in cited if c.document == document}
    if not q.answerable:
        recall = math.nan
    elif q.type == "multi":
        recall = len(gold & in_document) / len(gold)
    else:
        recall = float(bool(gold & in_document))
    coverage = (sum(_contains_fact(a.text, f) for f in q.key_facts) / len(q.key_facts)
                if q.answerable and q.key_facts else math.nan)
    if a.abstained and q.answerable and q.key_facts:
        coverage = 0.0
    # Numbers are checked against the paragraphs cited, each of its own document.
    allowed = set(numbers(" ".join(text_of(c) for c in valid)))
    violations = [n for n in numbers(numbers_outside_citations(a.text)) if n not in allowed]
    right = float(cited[0].document == document) if q.answerable and cited else None
    return {"cited": [c.label for c in cited], "citation_precision": precision, "citation_recall": recall,
            "fact_coverage": coverage, "abstained": a.abstained, "number_violations": violations,
            "text": a.text, "right_document": right}


def _mean(values) -> float:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return round(statistics.fmean(values), 4) if values else math.nan


def summarise(results: list[QuestionResult], questions: list[Question]) -> dict:
    by_id = {q.id: q for q in questions}
    def block(rs: list[QuestionResult]) -> dict:
        answerable = [r for r in rs if by_id[r.id].answerable]
        unanswerable = [r for r in rs if not by_id[r.id].answerable]
        out = {"n": len(rs), "hit@1": _mean(r.hit1 for r in answerable),
               "hit@5": _mean(r.hit5 for r in answerable), "recall@5": _mean(r.recall5 for r in answerable),
               "mrr@10": _mean(r.mrr10 for r in answerable), "ndcg@10": _mean(r.ndcg10 for r in answerable)}
        if rs and rs[0].abstained is not None:
            latencies = sorted(r.latency for r in rs if r.latency is not None)
            out.update({
                "citation_precision": _mean(r.citation_precision for r in rs),
                "citation_recall": _mean(r.citation_recall for r in answerable),
                "fact_coverage": _mean(r.fact_coverage for r in answerable),
                "abstained_unanswerable": _mean(float(bool(r.abstained)) for r in unanswerable),
                "abstained_answerable": _mean(float(bool(r.abstained)) for r in answerable),
                "right_document": _mean(r.right_document for r in answerable),
                "number_violations": sum(len(r.number_violations) for r in rs),
                "errors": sum(r.error is not None for r in rs),
                "latency_p50_ms": round(1000 * _percentile(latencies, 50), 1) if latencies else math.nan,
                "latency_p95_ms": round(1000 * _percentile(latencies, 95), 1) if latencies else math.nan,
            })
        return out
    summary = {"overall": block(results)}
    for lang in LANGS:
        summary[f"lang:{lang}"] = block([r for r in results if r.lang == lang])
    for t in TYPES:
        rs = [r for r in results if r.type == t]
        if rs:
            summary[f"type:{t}"] = block(rs)
    for style in STYLES:
        rs = [r for r in results if style in r.style]
        if rs:
            summary[f"style:{style}"] = block(rs)
    documents = sorted({r.document for r in results})
    if len(documents) > 1:
        for document in documents:
            summary[f"document:{document}"] = block([r for r in results if r.document == document])
    for band in ("low", "high"):
        for lang in (None, *LANGS):
            rs = [r for r in results if overlap_band(r.overlap) == band and lang in (None, r.lang)]
            if rs:
                summary[f"overlap:{band}" + (f"/{lang}" if lang else "")] = block(rs)
    return summary


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return math.nan
    i = (len(sorted_values) - 1) * pct / 100
    lo, hi = math.floor(i), math.ceil(i)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (i - lo)


def evaluate_system(questions: list[Question], settings: Settings, with_answers: bool,
                    progress: bool = False) -> list[QuestionResult]:
    retriever = get_retriever(settings)
    reports = retriever.index.reports
    missing = sorted({q.gold_document for q in questions} - set(reports))
    if missing:
        raise ValueError(f"the questions are about {', '.join(missing)}, which the library in {settings.corpus_dir} "
                         f"does not hold (it holds: {', '.join(reports) or 'nothing'}); set ASSISTANT_CORPUS_DIR")
    try:  # warm-up: first-call costs are not latency; a failure here is counted below
        answer(questions[0].question, settings)
    except Exception:
        pass
    results = []
    iterator = questions
    if progress:
        from tqdm import tqdm
        iterator = tqdm(questions, desc="questions", unit="q")
    for q in iterator:
        try:
            # A follow-up is retrieved as answer() reads it: made standalone from its history.
            standalone = standalone_question(q.question, list(q.history), settings.follow_up_own_terms)
            units = retriever.for_question(standalone).retrieve(standalone, k=10)
            result = QuestionResult(id=q.id, lang=q.lang, type=q.type, **_rank_metrics(q, units, reports),
                                    style=list(q.style), overlap=question_overlap(q, reports), fold=q.fold,
                                    document=q.gold_document)
        except Exception as exc:  # a failing question is a result, not a crash of the run
            results.append(_failure(q, exc))
            continue
        if with_answers:
            try:
                started = time.perf_counter()
                a = answer(q.question, settings, history=list(q.history))
                result.latency = time.perf_counter() - started
                for key, value in _answer_metrics(q, a, reports).items():
                    setattr(result, key, value)
            except Exception as exc:
                results.append(_failure(q, exc, result))
                continue
        results.append(result)
    return results


def _failure(q: Question, exc: Exception, partial: QuestionResult | None = None) -> QuestionResult:
    r = partial or QuestionResult(id=q.id, lang=q.lang, type=q.type, ranked=[], ranked_units=0, hit1=0.0,
                                  hit5=0.0, recall5=0.0, mrr10=0.0, ndcg10=0.0, style=list(q.style),
                                  fold=q.fold, document=q.gold_document)
    r.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    r.cited, r.abstained, r.text = [], False, ""
    r.citation_precision = 0.0
    r.citation_recall = 0.0 if q.answerable else math.nan
    r.fact_coverage = 0.0 if q.answerable and q.key_facts else math.nan
    return r


BASELINES = {"bm25": {"dense_weight": 0.0}, "dense": {"lexical_weight": 0.0}}


def run(split: str = "test", path: Path = QUESTIONS, settings: Settings | None = None,
        baselines: bool = True, progress: bool = False, limit: int | None = None) -> dict:
    """Evaluate the full system (and the baselines) on a split; returns the JSON-ready run."""
    settings = settings or Settings.from_env()
    questions = load_questions(path, split=None if split == "all" else split)[:limit]
    systems = {"full": evaluate_system(questions, settings, with_answers=True, progress=progress)}
    if baselines:
        for name, change in BASELINES.items():
            systems[name] = evaluate_system(questions, settings.replace(**change), with_answers=False)
    from ..search.embedder import resolve_model

    model = resolve_model(settings, convert_if_missing=False)
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "split": split if limit is None else f"{split}-first{limit}", "questions_file": str(path),
        "n": len(questions),
        "settings": settings.public_dict(), "model": {"id": model.id, "sha256": model.sha256,
                                                      "source": model.source},
        "summary": {name: summarise(rs, questions) for name, rs in systems.items()},
        "questions": {name: [asdict(r) for r in rs] for name, rs in systems.items()},
    }


def floors_failures(run_: dict, floors_path: Path = FLOORS) -> list[str]:
    """Headline metrics below the floors recorded in the repo."""
    floors = json.loads(floors_path.read_text(encoding="utf-8")).get(run_["split"], {})
    if not isinstance(floors, dict):
        raise ValueError(f"{floors_path}: floors for split {run_['split']!r} must be an object")
    if not floors:
        return [f"no floors are recorded for split {run_['split']!r} in {floors_path}"]
    summary = run_["summary"]["full"]
    failures = []
    for key, floor in floors.items():
        group, _, metric = key.rpartition("/")
        value = summary[group or "overall"].get(metric)
        if metric in ("number_violations", "errors", "abstained_answerable", "latency_p50_ms"):
            if value is None or value > floor:
                failures.append(f"{key} = {value} > ceiling {floor}")
        elif value is None or (isinstance(value, float) and math.isnan(value)) or value < floor:
            failures.append(f"{key} = {value} < floor {floor}")
    return failures

"""Choose weights and thresholds by k-fold cross-validation over the dev split, never on test.

Every candidate setting is scored on every dev question once; then, for each fold, the candidate
that does best on the other folds is picked and scored on that fold alone. The held-out scores,
fold by fold, say how well the *choice* generalises (their spread is reported, not hidden), and
the setting finally kept is the one that does best over all dev folds. Folds are made by
paragraph (``Question.fold``), so questions on one paragraph never sit on both sides.

Two stages, in the order the data flows: retrieval's fusion weights first (scored by MRR@10 over
answerable questions), then, with them fixed, the answer-level thresholds (scored by the answer
score below). ``assistant eval --cv`` runs both and prints the tables.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import statistics
from dataclasses import dataclass

import numpy as np

from ..settings import Settings
from . import evaluate

#: Candidate values, wide enough that the choice is not made at a grid edge by construction.
RETRIEVAL_GRID: dict[str, tuple] = {
    # A first grid (lexical 0-2, rrf_k 5-60, 2026-12-03) kept 0.75 and 5, chosen by every fold;
    # rrf_k 30 and 60 were never near the top.
    # Scaled scores against reciprocal ranks (rrf_k stays 5: it matters to "rrf" only).
    "fusion": ("minmax", "rrf"),
    "lexical_weight": (0.0, 0.5, 0.75, 1.0, 1.5),
    # The third ranking, paragraphs by their closest sentence: one fact in a long paragraph.
    "sentence_weight": (0.0, 0.5, 1.0),
}
ANSWER_GRID: dict[str, tuple] = {
    # A first grid (1.8-3.0) chose its lower edge; 0 never abstains for standing out too little.
    "abstain_standout": (0.0, 1.2, 1.5, 1.8, 2.0, 2.45),
    # How close another paragraph's best sentence must score to be quoted too: the lever for
    # questions whose facts lie in several paragraphs (paid for in citation precision).
    "runner_up_margin": (0.005, 0.02, 0.05),
}


@dataclass
class FoldResult:
    fold: int
    n: int
    chosen: dict
    held_out: float
    default: float  # the current default setting's score on the same fold


@dataclass
class CVResult:
    stage: str
    metric: str
    folds: list[FoldResult]
    final: dict  # best over all dev folds
    final_score: float
    default: dict
    default_score: float
    #: (candidate, mean score over all dev questions), best first.
    ranking: list[tuple[dict, float]]

    @property
    def spread(self) -> tuple[float, float, float, float]:
        """Mean, standard deviation, min and max of the held-out scores over folds."""
        scores = [f.held_out for f in self.folds]
        return (statistics.fmean(scores), statistics.pstdev(scores), min(scores), max(scores))


def candidates(grid: dict[str, tuple]) -> list[dict]:
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]


def select(scores: np.ndarray, folds: np.ndarray, options: list[dict], default: dict, stage: str,
           metric: str) -> CVResult:
    """``scores[c, q]``: candidate c's score on question q (NaN: not scored). Nested choice."""
    def mean(c: int, mask: np.ndarray) -> float:
        values = scores[c, mask]
        values = values[~np.isnan(values)]
        return float(values.mean()) if values.size else math.nan

    default_index = options.index(default) if default in options else None
    results = []
    for f in sorted(set(folds.tolist())):
        train, test = folds != f, folds == f
        # Ties go to the candidate listed first (the grids list gentler values first).
        best = max(range(len(options)), key=lambda c: (mean(c, train), -c))
        results.append(FoldResult(f, int(test.sum()), options[best], mean(best, test),
                                  mean(default_index, test) if default_index is not None else math.nan))
    everything = np.ones(scores.shape[1], dtype=bool)
    ranking = sorted(((options[c], mean(c, everything)) for c in range(len(options))), key=lambda x: -x[1])
    final = ranking[0][0]
    return CVResult(stage, metric, results, final, ranking[0][1], default,
                    mean(default_index, everything) if default_index is not None else math.nan, ranking)


class _CachedQueries:
    """The embedder with each question embedded once: a grid re-asks the same questions."""

    def __init__(self, embedder):
        self._embedder, self._cache = embedder, {}

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._cache]
        if missing:
            for t, v in zip(missing, self._embedder.embed_queries(missing), strict=True):
                self._cache[t] = v
        return np.stack([self._cache[t] for t in texts])


@contextlib.contextmanager
def queries_cached(settings: Settings):
    """Every retriever for these settings' index shares one Index object: a caching embedder put
    there serves every candidate of a grid (what a candidate changes is downstream of the query
    vector), and the real one is put back after."""
    from ..search.retrieval import get_retriever

    index = get_retriever(settings).index
    real = index.embedder
    index.embedder = _CachedQueries(real)
    try:
        yield
    finally:
        index.embedder = real


def retrieval_scores(questions: list[evaluate.Question], settings: Settings, options: list[dict]) -> np.ndarray:
    """MRR@10 of each candidate fusion setting on each answerable question (NaN otherwise)."""
    from ..compose.conversation import standalone_question
    from ..search.retrieval import get_retriever

    reports = get_retriever(settings).index.reports
    scores = np.full((len(options), len(questions)), np.nan)
    with queries_cached(settings):
        for c, option in enumerate(options):
            retriever = get_retriever(settings.replace(**option))
            for i, q in enumerate(questions):
                if q.answerable:
                    standalone = standalone_question(q.question, list(q.history), settings.follow_up_own_terms)
                    units = retriever.for_question(standalone).retrieve(standalone, k=10)
                    scores[c, i] = evaluate._rank_metrics(q, units, reports)["mrr10"]
    return scores


def answer_score(q: evaluate.Question, metrics: dict) -> float:
    """One number per question for the answer stage: an answerable question scores the mean of
    its key-fact coverage and its citation precision (0 when abstained), an unanswerable one 1
    when abstained, else 0. So a threshold that abstains more pays on unanswerable questions and
    costs on answerable ones, and quoting more paragraphs pays in facts and costs in precision,
    each in one sum."""
    if not q.answerable:
        return float(bool(metrics["abstained"]))
    if metrics["abstained"]:
        return 0.0
    parts = [v for v in (metrics["fact_coverage"], metrics["citation_precision"])
             if v is not None and not math.isnan(v)]
    return float(statistics.fmean(parts)) if parts else 0.0


def answer_scores(questions: list[evaluate.Question], settings: Settings, options: list[dict]) -> np.ndarray:
    from ..compose.answering import answer
    from ..search.retrieval import get_retriever

    reports = get_retriever(settings).index.reports
    scores = np.full((len(options), len(questions)), np.nan)
    with queries_cached(settings):
        for c, option in enumerate(options):
            use = settings.replace(**option)
            for i, q in enumerate(questions):
                a = answer(q.question, use, history=list(q.history))
                scores[c, i] = answer_score(q, evaluate._answer_metrics(q, a, reports))
    return scores


def cross_validate(settings: Settings | None = None, path=evaluate.QUESTIONS, stages=("retrieval", "answers"),
                   progress: bool = False) -> list[CVResult]:
    """Run the stages in order; each later stage starts from the earlier stages' final choice."""
    settings = settings or Settings.from_env()
    questions = evaluate.load_questions(path, split="dev")
    folds = np.array([q.fold for q in questions])
    out = []
    for stage in stages:
        grid, scorer, metric = {"retrieval": (RETRIEVAL_GRID, retrieval_scores, "mrr@10"),
                                "answers": (ANSWER_GRID, answer_scores, "answer score")}[stage]
        options = candidates(grid)
        default = {name: getattr(settings, name) for name in grid}
        if default not in options:
            options.append(default)
        if progress:
            print(f"{stage}: {len(options)} candidates × {len(questions)} dev questions", flush=True)
        result = select(scorer(questions, settings, options), folds, options, default, stage, metric)
        out.append(result)
        settings = settings.replace(**result.final)
    return out


def table(results: list[CVResult]) -> str:
    lines = []
    for r in results:
        mean, sd, lo, hi = r.spread
        lines += [f"### {r.stage}: {r.metric}, {len(r.folds)} folds by paragraph", "",
                  "| fold | n | chosen on the other folds | held-out | default on this fold |", "|---|---|---|---|---|"]
        lines += [f"| {f.fold} | {f.n} | {_fmt(f.chosen)} | {f.held_out:.3f} | {f.default:.3f} |" for f in r.folds]
        lines += ["", f"Held-out {r.metric}: mean {mean:.3f}, sd {sd:.3f}, min {lo:.3f}, max {hi:.3f}. "
                  f"Kept (best over all dev folds): {_fmt(r.final)} at {r.final_score:.3f}; "
                  f"the default {_fmt(r.default)} scores {r.default_score:.3f}.", "",
                  "Best five over all dev folds: " + "; ".join(f"{_fmt(o)} {s:.3f}" for o, s in r.ranking[:5]), ""]
    return "\n".join(lines)


def _fmt(option: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in option.items())

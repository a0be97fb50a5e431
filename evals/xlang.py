"""Cross-language retrieval in a library of several languages: the dense shift, by cross-validation.

    make eval-samples          # builds the library of the seed (French) and the ten samples (English)
    .venv/bin/python evals/xlang.py [--test]

Asks the seed's and the samples' answerable questions (dev splits; ``--test`` the test splits,
once, at the end) of that library with ``cross_language_shift`` over a grid (question language
English → French units × French → English units), and prints Hit@1 / Hit@5 / right document
per group (which questions × question language) and a 5-fold cross-validation, folds by
document and paragraph, of the choice by the macro average of (Hit@1 + Hit@5) / 2 over the
groups, so that the seed's many questions do not outvote the samples'.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from assistant.evaluation.evaluate import QUESTIONS, load_questions
from assistant.evaluation.tuning import queries_cached
from assistant.search.retrieval import get_retriever
from assistant.settings import Settings

LIBRARY = Path.home() / ".cache" / "un-report-assistant" / "library-samples"
SAMPLES = Path(__file__).parent / "questions_samples.jsonl"
SEED = "unodc-crime-prevention-report-2020"
EN_FR = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06]
FR_EN = [-0.02, -0.01, 0.0, 0.01, 0.02]


def _grid(questions, groups, base: Settings) -> dict[tuple[float, float], np.ndarray]:
    """(en>fr, fr>en) -> one row per question: Hit@1, Hit@5, right document first; printed per group."""
    results = {}
    for en_fr in EN_FR:
        for fr_en in FR_EN:
            settings = base.replace(cross_language_shift=f"en>fr:{en_fr},fr>en:{fr_en}")
            scored = get_retriever(settings)
            rows = []
            for q, _ in questions:
                passages = scored.search(q.question, 10).passages
                ranked = [(p.document, p.paragraph) for p in passages]
                gold = {(q.document or SEED, g) for g in q.gold}
                rows.append((float(bool(ranked) and ranked[0] in gold), float(any(r in gold for r in ranked[:5])),
                             float(bool(passages) and passages[0].document == (q.document or SEED))))
            cell = results[(en_fr, fr_en)] = np.array(rows)
            table = " | ".join(f"{g} n={int((groups == g).sum())} h1 {cell[groups == g, 0].mean():.3f} "
                               f"h5 {cell[groups == g, 1].mean():.3f} doc {cell[groups == g, 2].mean():.3f}"
                               for g in np.unique(groups))
            print(f"en>fr {en_fr:+.2f} fr>en {fr_en:+.2f} | {table}", flush=True)
    return results


def main(test: bool) -> None:
    base = Settings.from_env().replace(corpus_dir=LIBRARY / "corpus", index_dir=LIBRARY / "index")
    split = (lambda q: q.split == "test") if test else (lambda q: q.split != "test")
    questions = [(q, "seed") for q in load_questions(QUESTIONS) if q.answerable and split(q)]
    questions += [(q, "samples") for q in load_questions(SAMPLES) if q.answerable and split(q)]
    groups = np.array([f"{which}/{q.lang}" for q, which in questions])
    folds = np.array([q.fold for q, _ in questions])  # the eval's own folds: by document and anchor paragraph
    with queries_cached(base):  # each question embedded once for the whole grid
        results = _grid(questions, groups, base)

    def macro(cell, mask):
        score = (results[cell][:, 0] + results[cell][:, 1]) / 2
        return float(np.mean([score[mask & (groups == g)].mean() for g in np.unique(groups)
                              if (mask & (groups == g)).any()]))

    held, unshifted, chosen = [], [], []
    for fold in range(5):
        train, test_mask = folds != fold, folds == fold
        best = max(results, key=lambda c: (macro(c, train), -abs(c[0]) - abs(c[1])))
        chosen.append(best)
        held.append(macro(best, test_mask))
        unshifted.append(macro((0.0, 0.0), test_mask))
    print("chosen per fold (en>fr, fr>en):", chosen)
    print(f"held-out macro (Hit@1+Hit@5)/2: {np.mean(held):.3f} ± {np.std(held):.3f}; unshifted "
          f"{np.mean(unshifted):.3f} ± {np.std(unshifted):.3f}; gain per fold "
          f"{np.round(np.array(held) - np.array(unshifted), 3).tolist()}")


if __name__ == "__main__":
    main("--test" in sys.argv[1:])

"""Cross-validated choice of settings: the nested selection on scores made up for the test."""

from __future__ import annotations

import math

import numpy as np

from assistant.evaluation import tuning
from assistant.evaluation.evaluate import Question


def test_each_fold_is_scored_by_a_choice_made_without_it():
    # Candidate 0 is best on folds 0 and 1, candidate 1 only on fold 2 (by a lot), so the
    # choice made without fold 2 is candidate 0, and fold 2's held-out score is candidate 0's.
    folds = np.array([0, 0, 1, 1, 2, 2])
    scores = np.array([[1.0, 1.0, 1.0, 1.0, 0.0, 0.0],
                       [0.0, 0.0, 0.0, 0.0, 1.0, 1.0]])
    options = [{"w": 0}, {"w": 1}]
    result = tuning.select(scores, folds, options, {"w": 1}, "retrieval", "mrr@10")
    chosen = {f.fold: f.chosen for f in result.folds}
    held = {f.fold: f.held_out for f in result.folds}
    # Without fold 0: candidate 0 scores 2/4, candidate 1 scores 2/4: the tie goes to the first.
    assert chosen == {0: {"w": 0}, 1: {"w": 0}, 2: {"w": 0}}
    assert held == {0: 1.0, 1: 1.0, 2: 0.0}
    assert {f.fold: f.default for f in result.folds} == {0: 0.0, 1: 0.0, 2: 1.0}
    assert result.final == {"w": 0} and math.isclose(result.final_score, 4 / 6)
    mean, sd, lo, hi = result.spread
    assert math.isclose(mean, 2 / 3) and (lo, hi) == (0.0, 1.0) and sd > 0


def test_unscored_questions_are_left_out_not_counted_as_zero():
    folds = np.array([0, 1])
    scores = np.array([[np.nan, 1.0]])
    result = tuning.select(scores, folds, [{"w": 0}], {"w": 0}, "retrieval", "mrr@10")
    assert result.final_score == 1.0
    assert math.isnan(result.folds[0].held_out)


def test_answer_score():
    answerable = Question("a", "fr", "number", "dev", "?", (46,), "", ("187",))
    unanswerable = Question("u", "fr", "unanswerable", "dev", "?", (), "", ())
    assert tuning.answer_score(unanswerable, {"abstained": True}) == 1.0
    assert tuning.answer_score(unanswerable, {"abstained": False}) == 0.0
    assert tuning.answer_score(answerable, {"abstained": True, "fact_coverage": 0.0,
                                            "citation_precision": math.nan}) == 0.0
    assert tuning.answer_score(answerable, {"abstained": False, "fact_coverage": 1.0,
                                            "citation_precision": 0.5}) == 0.75


def test_candidates_span_the_grid():
    assert tuning.candidates({"a": (1, 2), "b": (3,)}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]

"""How retrieval combines its rankings (search/retrieval._add_ranking): no model, made-up lists."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.search.retrieval import _add_ranking
from assistant.settings import Settings

MINMAX, RRF = Settings(fusion="minmax"), Settings(fusion="rrf", rrf_k=5)


def fuse(rankings, settings, n=4):
    fused = np.zeros(n)
    for order, scores, weight in rankings:
        _add_ranking(fused, np.array(order), np.array(scores, dtype=float), weight, settings)
    return fused


def test_minmax_scales_each_ranking_between_its_last_and_its_first():
    fused = fuse([([2, 0, 1], [0.9, 0.8, 0.5], 2.0)], MINMAX)
    assert fused == pytest.approx([2.0 * 0.3 / 0.4, 0.0, 2.0, 0.0])


def test_a_ranking_of_equal_scores_gives_each_the_whole_weight():
    assert fuse([([3, 1], [7.0, 7.0], 0.5)], MINMAX) == pytest.approx([0, 0.5, 0, 0.5])
    assert fuse([([1], [0.2], 1.0)], MINMAX) == pytest.approx([0, 1.0, 0, 0])


def test_a_close_second_keeps_its_closeness_where_reciprocal_ranks_lose_it():
    # Dense: unit 0 barely ahead of unit 1. Lexical: unit 1 far ahead of unit 0 (one rare word).
    # Unit 2 closes both lists far behind, so both lists have the same range.
    dense = ([0, 1, 2], [0.80, 0.79, 0.60], 1.0)
    lexical = ([1, 0, 2], [9.0, 5.0, 1.0], 1.0)
    scaled = fuse([dense, lexical], MINMAX)
    assert scaled[1] > scaled[0] > scaled[2]
    # Reciprocal ranks see two swapped lists and tie the two units: how far ahead is lost.
    ranked = fuse([dense, lexical], RRF)
    assert ranked[0] == pytest.approx(ranked[1])


def test_reciprocal_ranks():
    fused = fuse([([2, 0], [0.9, 0.1], 1.0), ([0], [3.0], 0.5)], RRF)
    assert fused == pytest.approx([1 / 7 + 0.5 / 6, 0, 1 / 6, 0])


def test_a_zero_weight_or_an_empty_ranking_adds_nothing():
    assert not fuse([([0, 1], [1.0, 0.5], 0.0), ([], [], 1.0)], MINMAX).any()

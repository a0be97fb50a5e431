"""BM25 over the units' normalised search text: French Snowball stemming, accent folding,
numbers joined as written ("338 196" -> "338196"), so an exact figure or name is found even when
the question is reworded around it."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import numpy as np

from .records import Unit
from .text import NUMBER, fold, normalise_number

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

    # English too: questions come in both languages and English function words never match.
    return frozenset(fold(w) for w in (*STOPWORDS_FRENCH, *STOPWORDS_EN))


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("french")


def tokenize(text: str) -> list[str]:
    """Words -> stemmed, accent-folded tokens; numbers kept whole."""
    text = NUMBER.sub(lambda m: " " + normalise_number(m.group(0)).replace(".", "_") + " ", text)
    words = [w for w in _WORD.findall(text.lower()) if fold(w) not in _stopwords()]
    return [fold(s) for s in _stemmer().stemWords(words)]


class LexicalIndex:
    """BM25 scores of every unit for a question."""

    def __init__(self, units: list[Unit]):
        import bm25s

        # bm25s sets its logger to DEBUG on import and logs every index build.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokenize(u.search_text) for u in units], show_progress=False)

    def scores(self, question: str) -> np.ndarray:
        tokens = tokenize(question)
        if not tokens:
            return np.zeros(self._bm25.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

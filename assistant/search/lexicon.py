"""The English -> French lexicon learned from general UN text (``data/lexicon_en_fr.txt``, made by
``lexicon_learn.py``), read like the glossary, and cut down to the words of one corpus.

A learned entry may list a French word that the indexed report never uses: it could match
nothing, and would only make an English question look as if some of its words were missing.
``restricted`` keeps the French terms the corpus holds (compared as the lexical side compares
them: French stems, accents folded), so the same file serves any report.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from .glossary import Glossary, parse_glossary

LEXICON = Path(__file__).with_name("data") / "lexicon_en_fr.txt"


@lru_cache(maxsize=1)
def lexicon() -> Glossary:
    """The learned lexicon, whole."""
    return parse_glossary(LEXICON.read_text(encoding="utf-8"), LEXICON.name)


def restricted(lexicon: Glossary, texts: Iterable[str]) -> Glossary:
    """``lexicon`` keeping only the French terms all of whose stems occur in ``texts``; an English
    term left with none is dropped. The order of an entry's French terms is kept."""
    from .lexical import tokenize

    vocabulary: set[str] = set()
    for text in texts:
        vocabulary.update(tokenize(text))
    entries = {}
    for english, french in lexicon.entries.items():
        kept = tuple(f for f in french if (stems := set(tokenize(f))) and stems <= vocabulary)
        if kept:
            entries[english] = kept
    return Glossary(entries, max((len(k) for k in entries), default=0))

"""French words for an English question, from the report's own English -> French glossary.

The dense model matches meaning across languages; everything that compares words (BM25, the
choice of the sentence to quote, the check that a question's terms occur in the report) needs
the question in the report's language. ``glossary_en_fr.txt`` says why it exists and how it was
written; this module parses it and looks an English question's words up in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GLOSSARY = Path(__file__).with_name("glossary_en_fr.txt")
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")


class GlossaryError(ValueError):
    """A malformed glossary line, named by its number."""


@dataclass(frozen=True)
class Glossary:
    # English term as a tuple of English stems -> French terms.
    entries: dict[tuple[str, ...], tuple[str, ...]]
    longest: int  # words in the longest English term

    def french_for(self, english: str) -> list[str]:
        """French terms for the English words and phrases of ``english``, in order of appearance,
        no duplicates."""
        found: list[str] = []
        for _, french in self.spans(english):
            found += [f for f in french if f not in found]
        return found

    def spans(self, english: str) -> list[tuple[str, tuple[str, ...]]]:
        """``english`` cut into glossary terms and other words: (English words, French terms or
        ``()``). Longer phrases win: "money laundering" gives "blanchiment d'argent", not the
        French for "money" as well."""
        words = _words(english)
        stems = _english_stemmer().stemWords(words)
        out: list[tuple[str, tuple[str, ...]]] = []
        i = 0
        while i < len(stems):
            for n in range(min(self.longest, len(stems) - i), 0, -1):
                french = self.entries.get(tuple(stems[i:i + n]))
                if french:
                    out.append((" ".join(words[i:i + n]), french))
                    i += n
                    break
            else:
                out.append((words[i], ()))
                i += 1
        return out


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _stem_words(text: str) -> list[str]:
    return _english_stemmer().stemWords(_words(text))


@lru_cache(maxsize=1)
def _english_stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def parse_glossary(text: str, source: str = "glossary") -> Glossary:
    """Lines "english, english = français, français"; "#" starts a comment."""
    entries: dict[tuple[str, ...], tuple[str, ...]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        english, sep, french = line.partition("=")
        english_terms = [t.strip() for t in english.split(",") if t.strip()]
        french_terms = tuple(t.strip() for t in french.split(",") if t.strip())
        if not sep or not english_terms or not french_terms:
            raise GlossaryError(f"{source}:{number}: expected 'english, … = français, …', got {raw!r}")
        for term in english_terms:
            key = tuple(_stem_words(term))
            if key:  # a term may recur: its French terms add up
                entries[key] = entries.get(key, ()) + tuple(f for f in french_terms
                                                            if f not in entries.get(key, ()))
    if not entries:
        raise GlossaryError(f"{source}: no entries")
    return Glossary(entries, max(len(k) for k in entries))


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    return parse_glossary(GLOSSARY.read_text(encoding="utf-8"), str(GLOSSARY.name))

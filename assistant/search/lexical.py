"""BM25 over the units' normalised search text, one index per language: each document is read
with its own language's Snowball stemmer and stop words, accents folded, numbers joined as written
("338 196" -> "338196"), so an exact figure or name is found even when the question is reworded
around it.

Why one BM25 per language rather than one for the library: a stem means something only within
its language ("pour" is a French stop word, "pour" an English verb; "sale" is "dirty" or "sale"),
and a word's rarity (its IDF) is a fact about the documents of its language. A question is read
by each language's analyzer against that language's documents; an English question also brings
the French words of the glossary to the French documents (``question_search_text``), as it
always has. The scores of the languages' indexes are then one ranking (BM25 scores of the same
formula, over texts of the same kind).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..files import atomic_write, file_sha256
from ..records import Report, Unit
from ..text import (
    NUMBER,
    any_of,
    detect_language,
    fold,
    normalise_number,
    search_text,
    unify_variants,
    variants_pattern,
)
from .glossary import glossary

_WORD = re.compile(r"\w+")

# The Snowball stemmer and the bm25s stop-word lists of each language (ISO 639-1). A language not
# listed is read without stemming or stop words (words folded, numbers whole). French documents
# also drop English stop words: questions come in both languages and English function words
# never match French text.
_STEMMERS = {"fr": "french", "en": "english", "es": "spanish", "ru": "russian", "ar": "arabic"}
_STOPWORDS = {"fr": ("STOPWORDS_FRENCH", "STOPWORDS_EN"), "en": ("STOPWORDS_EN",), "es": ("STOPWORDS_SPANISH",),
              "ru": ("STOPWORDS_RUSSIAN",), "zh": ("STOPWORDS_CHINESE",)}
#: The language of a document whose language is unknown: the seed's parser set none before.
DEFAULT_LANGUAGE = "fr"


# English names of bodies the report cites by their French acronym: a question in English that
# uses the English acronym must still match the French text.
ACRONYMS_EN_FR = {
    "UNODC": "ONUDC", "UNDP": "PNUD", "WHO": "OMS", "WCO": "OMD", "ICAO": "OACI", "FATF": "GAFI",
    "UN-Habitat": "ONU-Habitat", "UN-Women": "ONU-Femmes", "UN Women": "ONU-Femmes", "SDG": "ODD",
    "SDGs": "ODD", "UN": "ONU", "UNHCR": "HCR", "IMO": "OMI", "EU": "UE", "UNICEF": "UNICEF",
}
_ACRONYM_EN = re.compile(rf"\b({any_of(ACRONYMS_EN_FR)})\b")


def acronym_forms(acronym: str) -> frozenset[str]:
    """An acronym as either language writes it: "ONUDC" -> {"ONUDC", "UNODC"} (``ACRONYMS_EN_FR``)."""
    return frozenset({acronym, *(fr for en, fr in ACRONYMS_EN_FR.items() if en == acronym),
                      *(en for en, fr in ACRONYMS_EN_FR.items() if fr == acronym)})


def question_search_text(question: str) -> str:
    """The question as the lexical index should read it: French acronyms, and for an English
    question the French words of the report's glossary added (``glossary.py``)."""
    text = search_text(_ACRONYM_EN.sub(lambda m: ACRONYMS_EN_FR[m.group(1)], question))
    if detect_language(question) == "en":
        text = " ".join([text, *glossary().french_for(question)])
    return text


@lru_cache(maxsize=8)
def _stopwords(language: str) -> frozenset[str]:
    import bm25s.stopwords

    return frozenset(fold(w) for name in _STOPWORDS.get(language, ()) for w in getattr(bm25s.stopwords, name))


@lru_cache(maxsize=8)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(_STEMMERS[language]) if language in _STEMMERS else None


# A library's words repeat: folding each once (Unicode decomposition per word) makes reading a
# library's sentences at start-up about twice as fast.
_fold = lru_cache(maxsize=200_000)(fold)


@lru_cache(maxsize=8)
def analyzer(language: str) -> Callable[[str], list[str]]:
    """The tokenizer of a language: words -> stemmed, accent-folded tokens; numbers kept whole."""
    stopwords, stemmer = _stopwords(language), _stemmer(language)

    def tokens(text: str) -> list[str]:
        text = NUMBER.sub(lambda m: " " + normalise_number(m.group(0)).replace(".", "_") + " ", text)
        words = [w for w in _WORD.findall(text.lower()) if _fold(w) not in stopwords]
        return [_fold(s) for s in (stemmer.stemWords(words) if stemmer else words)]

    return tokens


def tokenize(text: str) -> list[str]:
    """French tokens: what the answer composer and the abstention rules compare words in (an
    English question reaches them through the glossary's French terms, an English sentence too:
    ``retrieval.sentence_tokens``)."""
    return analyzer("fr")(text)


# The Secretary-General speaks in the first person ("J'encourage les États Membres…", "Je prie
# instamment…") and never names himself: such a paragraph is what "the Secretary-General" asks,
# urges or notes, so its words (and its sentences', for the answer composer) are read with his
# title. Dev: Hit@1 0.876 -> 0.888 (EN 0.809 -> 0.833).
_FIRST_PERSON = re.compile(r"\b(?:je\b|j['’])", re.IGNORECASE)


def speaker_of(unit: Unit) -> str:
    """"Secrétaire général" for a paragraph in his first person, else ""."""
    return "Secrétaire général" if unit.kind == "paragraph" and _FIRST_PERSON.search(unit.text) else ""


def query_text(question: str, language: str) -> str:
    """The question as the lexical index of ``language`` reads it: for French documents with the
    report's acronyms and, for an English question, the glossary's French words."""
    return question_search_text(question) if language == "fr" else search_text(question)


def question_variants(units: list[Unit], variants: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The garbles a question is read with (a question quoting a garbled sentence finds what its
    document's search text holds, the acronym): those of the units' documents (``variants``: doc
    id -> ``Report.acronym_variants``), but for one another of these documents prints as its own
    word (it is still in that one's search text)."""
    merged = {g: a for doc in dict.fromkeys(u.document for u in units) for g, a in variants.get(doc, {}).items()}
    if not merged:
        return {}
    printed = variants_pattern(frozenset(merged))
    kept = {" ".join(m.group().split()) for u in units for m in printed.finditer(u.search_text)}
    return {g: a for g, a in merged.items() if g not in kept}


class LexicalIndex:
    """BM25 scores of every unit for a question (units of one language)."""

    def __init__(self, units: list[Unit], language: str = DEFAULT_LANGUAGE, bm25=None,
                 variants: Mapping[str, Mapping[str, str]] | None = None):
        """BM25 over ``units``, or ``bm25`` as loaded (then ``units`` only count); ``variants``:
        doc id -> its OCR garbles (``Report.acronym_variants``), which a question is read with."""
        import bm25s

        # bm25s sets its logger to DEBUG on import and logs every index build.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.language = language
        self._tokens = analyzer(language)
        self._n = len(units)
        self._variants = question_variants(units, variants or {})
        if bm25 is None:
            bm25 = bm25s.BM25()
            bm25.index([self._tokens(f"{u.search_text} {speaker_of(u)}") for u in units], show_progress=False)
        self._bm25 = bm25

    def scores(self, question: str) -> np.ndarray:
        """BM25 of every unit for ``question``, read as a question on this language's documents."""
        tokens = self._tokens(unify_variants(query_text(question, self.language), self._variants))
        if not tokens or not self._n:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)


# bm25s's file names, and ours for each language's copy beside the FAISS index.
_BM25_FILES = {"data_name": "data.csc.index.npy", "indices_name": "indices.csc.index.npy",
               "indptr_name": "indptr.csc.index.npy", "vocab_name": "vocab.index.json",
               "params_name": "params.index.json", "nnoc_name": "nonoccurrence_array.index.npy"}


def lexical_file_names(language: str) -> dict[str, str]:
    """bm25s's argument name -> our file name for ``language`` ("lexical-en.vocab.index.json")."""
    return {arg: f"lexical-{language or 'xx'}.{name}" for arg, name in _BM25_FILES.items()}


class LibraryLexical:
    """One ``LexicalIndex`` per language of the library; scores over all units, in index order."""

    def __init__(self, n_units: int, parts: dict[str, tuple[LexicalIndex, np.ndarray]]):
        self.n_units = n_units
        #: language -> (its index, the positions of its units in the library's order)
        self.parts = parts

    @staticmethod
    def positions(units: list[Unit], languages: dict[str, str]) -> dict[str, np.ndarray]:
        """language -> positions of its documents' units, in order."""
        out: dict[str, list[int]] = {}
        for i, u in enumerate(units):
            out.setdefault(languages.get(u.document) or DEFAULT_LANGUAGE, []).append(i)
        return {lang: np.array(rows, dtype=np.int64) for lang, rows in sorted(out.items())}

    @classmethod
    def build(cls, units: list[Unit], reports: Mapping[str, Report]) -> LibraryLexical:
        """``reports``: document id -> its parse, which gives its language and its OCR garbles."""
        languages, variants = _reading(reports)
        return cls(len(units), {lang: (LexicalIndex([units[i] for i in rows], lang, variants=variants), rows)
                                for lang, rows in cls.positions(units, languages).items()})

    def scores(self, question: str) -> np.ndarray:
        out = np.zeros(self.n_units, dtype=np.float32)
        for index, rows in self.parts.values():
            out[rows] = index.scores(question)
        return out

    def save(self, folder: Path) -> dict[str, dict[str, str]]:
        """Write each language's BM25 beside the FAISS index (each file atomically); returns
        language -> {file name: sha256} for the manifest."""
        written: dict[str, dict[str, str]] = {}
        for lang, (index, _) in self.parts.items():
            names = lexical_file_names(lang)
            with tempfile.TemporaryDirectory() as tmp:
                index._bm25.save(tmp, show_progress=False, **_BM25_FILES)
                written[lang] = {}
                for arg, ours in names.items():
                    source = Path(tmp) / _BM25_FILES[arg]
                    if source.is_file():
                        atomic_write(folder / ours, lambda p, s=source: shutil.copyfile(s, p))
                        written[lang][ours] = file_sha256(folder / ours)
        return written

    @classmethod
    def load(cls, folder: Path, files: dict[str, dict[str, str]], units: list[Unit],
             reports: Mapping[str, Report]) -> LibraryLexical:
        """Read what ``save`` wrote; ``ValueError`` if it does not match the units."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        languages, variants = _reading(reports)
        positions = cls.positions(units, languages)
        if sorted(files) != sorted(positions):
            raise ValueError(f"lexical indexes for {sorted(files)}, the library's languages are {sorted(positions)}")
        parts = {}
        for lang, rows in positions.items():
            names = lexical_file_names(lang)
            present = {arg: ours for arg, ours in names.items() if ours in files[lang]}
            bm25 = bm25s.BM25.load(str(folder), show_progress=False, mmap=False, **present)
            if json.loads((folder / names["params_name"]).read_text(encoding="utf-8")).get("num_docs") != len(rows):
                raise ValueError(f"the {lang} lexical index does not hold the library's {len(rows)} {lang} units")
            parts[lang] = (LexicalIndex([units[i] for i in rows], lang, bm25=bm25, variants=variants), rows)
        return cls(len(units), parts)


def _reading(reports: Mapping[str, Report]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """How each document is read: document id -> its language, and -> its OCR garbles
    (``Report.acronym_variants``), which a question is read with too."""
    return ({d: r.language for d, r in reports.items()}, {d: r.acronym_variants for d, r in reports.items()})


def lexical_files(files: dict[str, dict[str, str]]) -> list[str]:
    """Every file name a manifest's lexical entry lists."""
    return [name for per_language in files.values() for name in per_language]

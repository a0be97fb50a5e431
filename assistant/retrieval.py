"""Find the report's units that answer a question: hybrid (dense + BM25, weighted rank fusion),
cross-lingual (the dense model is multilingual; English acronyms are mapped for BM25), and
structure-aware (a question naming a paragraph or a section gets it directly)."""

from __future__ import annotations

import copy
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .index import INDEX_FIELDS, Index, ensure_index, unit_sentences
from .lexical import LexicalIndex, speaker_of, tokenize
from .records import Passage, Unit
from .settings import Settings
from .text import fold, numbers, ordinals, question_search_text
from .validation import check_k, check_question, check_settings

_NAME = re.compile(r"\b[A-ZÀ-Ý][\w-]+")  # a capitalised word: a place, a body, a person

_PARAGRAPH_REF = re.compile(
    r"(?:§\s*|\b(?:paragraphe|paragraph|para\.?)s?\s+(?:n[°ºo]\.?\s*)?)(\d{1,3})\b", re.IGNORECASE)
_ROMAN = r"(VI|IV|V|I{1,3})"
_SECTION_WORD = r"(?:section|chapitre|chapter|partie|part|titre)"
_SECTION_ROMAN = re.compile(rf"\b{_SECTION_WORD}\s+{_ROMAN}\b(?:\.([A-F])\b)?")
_SECTION_LETTER = re.compile(rf"\b(?:{_SECTION_WORD}|sous-section|subsection)\s+([A-F])\b")
_DOTTED = re.compile(rf"\b{_ROMAN}\.([A-F])(?:\.(\d))?\b")


@dataclass(frozen=True)
class StructuralRef:
    paragraphs: tuple[int, ...] = ()
    heading: str | None = None  # a heading label such as "IV.E"


def structural_reference(question: str, headings: dict[str, str]) -> StructuralRef:
    """Paragraph numbers or a section label that the question names, if any. ``headings`` maps
    labels ("IV.E") to titles ("E. Collecte de données…")."""
    paragraphs = tuple(int(n) for n in _PARAGRAPH_REF.findall(question))
    label = None
    if m := _DOTTED.search(question):
        label = ".".join(x for x in m.groups() if x)
    else:
        roman = _SECTION_ROMAN.search(question)
        letter = _SECTION_LETTER.search(question)
        if roman and roman.group(2):
            label = f"{roman.group(1)}.{roman.group(2)}"
        elif roman and letter:
            label = f"{roman.group(1)}.{letter.group(1)}"
        elif roman:
            label = roman.group(1)
        elif letter:  # "part E": the first top-level section that has it
            label = next((h for h in sorted(headings) if h.endswith(f".{letter.group(1)}")
                          and h.count(".") == 1), None)
    if label is None and _SECTION_INTENT.search(question):
        label = _heading_named_by_title(question, headings)
    while label and label not in headings:  # "IV.E.9" -> "IV.E"
        label = label.rpartition(".")[0] or None
    return StructuralRef(paragraphs, label)


# "What does the introduction say?", "De quoi traitent les observations finales ?": a question
# about a part of the report named by its title rather than its number.
_SECTION_INTENT = re.compile(
    r"\b(?:que (?:dit|disent|couvre|couvrent|contient|contiennent)|de quoi (?:traite|traitent|parle|parlent)|"
    r"quel est (?:le sujet|le contenu)|what (?:does|do) .{0,60}\b(?:say|cover|contain|deal with)|"
    r"what is .{0,40} about)\b", re.IGNORECASE)


def _heading_named_by_title(question: str, headings: dict[str, str]) -> str | None:
    """The most specific heading whose whole title (its words, stemmed) stands in the question."""
    asked = set(tokenize(question))
    named = [label for label, title in headings.items()
             if (words := set(tokenize(re.sub(r"^\S+\.\s+", "", title)))) and words <= asked]
    return max(named, key=lambda label: (len(set(tokenize(headings[label]))), label.count(".")), default=None)


@dataclass
class Retrieval:
    question: str
    passages: list[Passage]
    query_vector: np.ndarray
    #: Fused score of every unit, in index order.
    fused: np.ndarray
    ref: StructuralRef


class Retriever:
    """Dense + lexical retrieval over one index."""

    def __init__(self, index: Index, settings: Settings):
        self.index = index
        self.settings = settings
        self.lexical = LexicalIndex(index.units)
        self.position = {u.id: i for i, u in enumerate(index.units)}
        #: The units' vectors (row = position), for scoring a sentence with its paragraph.
        self.unit_vectors = index.vectors.reconstruct_n(0, len(index.units))
        self._headings = {u.id[2:]: u.section[-1] for u in index.units if u.kind == "heading"}
        all_text = " ".join(u.text for u in index.units)
        #: Every word of the report, folded; every number of the report, normalised.
        self.vocabulary = frozenset(fold(w) for w in re.findall(r"\w+", all_text))
        self.report_numbers = frozenset(numbers(all_text))
        self.report_ordinals = frozenset(ordinals(all_text))  # "quatorzième" -> 14
        #: unit id -> [(row in index.sentence_vectors, sentence)]
        self.sentence_owners: dict[str, list[tuple[int, str]]] = {}
        owners = unit_sentences(index.units)
        for row, (position, sentence) in enumerate(owners):
            self.sentence_owners.setdefault(index.units[position].id, []).append((row, sentence))
        self._is_heading = np.array([u.kind == "heading" for u in index.units])
        self._sentence_unit = np.array([position for position, _ in owners], dtype=np.int64)
        #: Stemmed words of each sentence (row order), for the answer composer's word overlap.
        self.sentence_tokens = [frozenset(tokenize(f"{sentence} {speaker_of(index.units[position])}"))
                                for position, sentence in owners]
        self.stems = frozenset().union(*self.sentence_tokens)  # every lexical token of the report
        #: The report's names (places, bodies, people: its capitalised words, folded, but for a
        #: sentence's first), each with the rows of the sentences that hold it.
        self.name_rows: dict[str, list[int]] = {}
        for row, (_, sentence) in enumerate(owners):
            for name in {fold(m.group()) for m in _NAME.finditer(sentence) if m.start() > 0}:
                self.name_rows.setdefault(name, []).append(row)

    def sentences_of(self, passages: list[Passage]) -> Iterator[tuple[Passage, int, str]]:
        """(passage, row in index.sentence_vectors, sentence) for every sentence of ``passages``,
        passage by passage (headings and the summary have none)."""
        for passage in passages:
            for row, sentence in self.sentence_owners.get(passage.unit_id, []):
                yield passage, row, sentence

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The ``k`` (default ``settings.k``) best passages; ``ValueError`` for a question or ``k``
        that cannot be used (``validation.py``)."""
        k = self.settings.k if k is None else check_k(k)
        return self.search(check_question(question, self.settings), k).passages

    def search(self, question: str, k: int | None = None) -> Retrieval:
        """Passages plus what the answer composer reuses (the query vector, the fused scores).
        ``question`` has been checked (``validation.check_question``): a follow-up merged with the
        question before it may be longer than a question typed alone."""
        k = self.settings.k if k is None else k
        query = self.index.embedder.embed_queries([question])[0]
        fused = self._fused_scores(question, query)
        ref = structural_reference(question, self._headings)
        if not ref.heading and self.settings.heading_weight != 1.0:
            fused = np.where(self._is_heading, fused * self.settings.heading_weight, fused)
        direct: list[int] = [self.position[f"p{n}"] for n in ref.paragraphs if f"p{n}" in self.position]
        if ref.heading:
            direct.append(self.position[f"h:{ref.heading}"])
            members = [self.position[f"p{n}"] for n in self._heading_paragraphs(ref.heading)]
            direct.extend(sorted(members, key=lambda i: -fused[i]))
        top = max(float(fused.max()), 1e-9)
        passages, seen = [], set()
        for i in direct:
            if i not in seen:
                seen.add(i)
                passages.append(self._passage(i, top + 1.0 - 0.001 * len(passages), "direct"))
        for i in np.argsort(-fused, kind="stable"):
            if len(passages) >= k:
                break
            if int(i) not in seen and fused[i] > 0:
                seen.add(int(i))
                passages.append(self._passage(int(i), float(fused[i]), "hybrid"))
        return Retrieval(question, passages[:k], query, fused, ref)

    def _heading_paragraphs(self, label: str) -> list[int]:
        unit = self.index.units[self.position[f"h:{label}"]]
        return [u.paragraph for u in self.index.units
                if u.kind == "paragraph" and u.section[:len(unit.section)] == unit.section]

    def _fused_scores(self, question: str, query: np.ndarray) -> np.ndarray:
        """Weighted reciprocal-rank fusion of the dense and the lexical rankings."""
        s, n = self.settings, len(self.index.units)
        fused = np.zeros(n, dtype=np.float64)
        for rank, (i, _) in enumerate(self.index.search(query, s.candidates)):
            fused[i] += s.dense_weight / (s.rrf_k + rank + 1)
        if s.sentence_weight:
            # A paragraph also ranks by its single closest sentence: a long paragraph's vector
            # blurs the one fact a question asks about.
            best = np.full(n, -1.0)
            np.maximum.at(best, self._sentence_unit, self.index.sentence_vectors @ query)
            for rank, i in enumerate(np.argsort(-best, kind="stable")[: s.candidates]):
                if best[i] > -1.0:
                    fused[i] += s.sentence_weight / (s.rrf_k + rank + 1)
        lexical = self.lexical.scores(question_search_text(question))
        order = np.argsort(-lexical, kind="stable")[: s.candidates]
        for rank, i in enumerate(order):
            if lexical[i] > 0:
                fused[i] += s.lexical_weight / (s.rrf_k + rank + 1)
        return fused

    def _passage(self, position: int, score: float, found_by: str) -> Passage:
        u: Unit = self.index.units[position]
        return Passage(paragraph=u.paragraph, section=u.section, text=u.text, score=round(score, 6),
                       kind=u.kind, unit_id=u.id, found_by=found_by)


_lock = threading.Lock()
# Retrievers that differ only in search settings are cheap copies; the most recent are kept (a
# caller passing a new weight on every call grew this without end: the fuzz run's RSS).
_retrievers: OrderedDict[Settings, Retriever] = OrderedDict()
_MAX_SEARCH_VARIANTS = 64
_by_index: dict[tuple, Retriever] = {}
# The settings that decide what the index holds; the others (k, fusion weights, answering) only
# change how it is searched, so retrievers that differ in those share the index and BM25.
_INDEX_FIELDS = (*INDEX_FIELDS, "threads")


def _index_key(settings: Settings) -> tuple:
    return tuple(getattr(settings, name) for name in _INDEX_FIELDS)


def get_retriever(settings: Settings | None = None) -> Retriever:
    """The process-wide retriever for these settings (index loaded or rebuilt once per index)."""
    settings = settings or Settings.from_env()
    with _lock:
        if settings not in _retrievers:
            key = _index_key(settings)
            if key not in _by_index:
                _by_index[key] = Retriever(ensure_index(settings), settings)
            _retrievers[settings] = copy.copy(_by_index[key])  # shares the heavy parts
            _retrievers[settings].settings = settings
            if len(_retrievers) > _MAX_SEARCH_VARIANTS:
                _retrievers.popitem(last=False)
        _retrievers.move_to_end(settings)
        return _retrievers[settings]


def install(retriever: Retriever) -> None:
    """Make ``retriever`` (over a rebuilt index) the one every later search with its index's
    settings uses. Searches under way finish with the retriever they started with: nothing
    they hold is changed, only the cache that hands retrievers out."""
    key = _index_key(retriever.settings)
    with _lock:
        _by_index[key] = retriever
        for settings in [s for s in _retrievers if _index_key(s) == key]:
            del _retrievers[settings]


def retrieve(question: str, k: int = 5, settings: Settings | None = None) -> list[Passage]:
    """The ``k`` units that best answer ``question``, best first.

    Each ``Passage`` has ``paragraph`` (None for a section heading or the summary), ``section``,
    ``text`` and ``score``. Raises ``ValueError`` for an empty, over-long or non-text question, a
    ``k`` that is not a whole number from 1 to 1000, or settings that cannot be used, as
    ``answer()`` does.
    """
    settings = check_settings(settings)
    k, question = check_k(k), check_question(question, settings)  # before the index loads
    return get_retriever(settings).retrieve(question, k)


class ReportRetriever(BaseRetriever):
    """The same retrieval as a LangChain retriever: drops into any LangChain chain."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    settings: Settings = Settings()
    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun
                                ) -> list[Document]:
        return [passage_document(p) for p in retrieve(query, self.k, self.settings)]


def passage_document(p: Passage) -> Document:
    return Document(page_content=p.text, id=p.unit_id,
                    metadata={"paragraph": p.paragraph, "section": list(p.section), "score": p.score,
                              "kind": p.kind, "found_by": p.found_by})

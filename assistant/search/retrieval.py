"""Find the library's units that answer a question: hybrid (dense + BM25, weighted rank fusion),
cross-lingual (the dense model is multilingual; English acronyms and the glossary's words are
mapped for French documents' BM25), structure-aware (a question naming a paragraph or a section
of the one document searched gets it directly), and restricted to some documents on request
(``documents=[...]``, or a question naming a document by its symbol)."""

from __future__ import annotations

import copy
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ..records import Passage, Unit, unit_id
from ..settings import Settings
from ..text import detect_language, fold, numbers, ordinals
from ..validation import InvalidInput, check_documents, check_k, check_question, check_settings
from .glossary import glossary
from .index import INDEX_FIELDS, Index, ensure_index, unit_sentences
from .lexical import DEFAULT_LANGUAGE, LibraryLexical, acronym_forms, speaker_of, tokenize

_NAME = re.compile(r"\b[A-ZÀ-Ý][\w-]+")  # a capitalised word: a place, a body, a person

# How a question names a part of a document, in any numbering: "§200", "§ -1", "paragraphe
# 117", "paragraph n° 0", "para. 999"; after a section word a Roman numeral with optional dotted
# parts ("IX", "IV.G", "IV.E.9") or a letter with optional digits ("partie Z", "part C.2"); or a
# dotted label standing alone ("IX.Z", "IV.G.2", "V.6"). Labels are upper case, as printed.
# ``structural_reference`` keeps what the document has; ``compose/references.py`` says what it lacks.
_PARAGRAPH = re.compile(
    r"(?:§\s*|\b(?:paragraphe|paragraph|para\.?)s?\s+(?:n[°ºo]\.?\s*)?)([-−‑]?\s?\d+)", re.IGNORECASE)
_PART_WORD = r"(?i:sections?|chapitres?|chapters?|parties|partie|parts?|titres?|sous-sections?|subsections?)"
_NAMED = re.compile(rf"\b{_PART_WORD}\s+([IVXLC]+(?:\.[A-Z0-9]+)*|[A-Z](?:\.\d+)*)(?![\w.]*\w)")
_DOTTED = re.compile(r"(?<![\w.])([IVX]+\.(?:[A-Z]|\d+)(?:\.\d+)*)(?![\w])")
_ROMAN = re.compile(r"[IVXLC]+")


def named_paragraphs(question: str) -> list[str]:
    """The paragraph numbers ``question`` names, as written ("-1", "200", "9999999999")."""
    return [re.sub(r"\s", "", raw).replace("−", "-").replace("‑", "-") for raw in _PARAGRAPH.findall(question)]


def named_section(question: str) -> str | None:
    """The section label ``question`` names ("IV.E" for "part E of section IV"), if any."""
    if m := _DOTTED.search(question):
        return m.group(1)
    named = [m.group(1) for m in _NAMED.finditer(question)]
    roman = next((x for x in named if _ROMAN.fullmatch(x.split(".")[0])), None)
    letter = next((x for x in named if not _ROMAN.fullmatch(x.split(".")[0])), None)
    if roman and letter and "." not in roman:  # "partie E de la section IV" -> "IV.E"
        return f"{roman}.{letter}"
    return roman or letter


@dataclass(frozen=True)
class StructuralRef:
    paragraphs: tuple[int, ...] = ()
    heading: str | None = None  # a heading label such as "IV.E"


def structural_reference(question: str, headings: dict[str, str]) -> StructuralRef:
    """Paragraph numbers or a section label that the question names, if any. ``headings`` maps
    labels ("IV.E") to titles ("E. Collecte de données…")."""
    paragraphs = tuple(int(n) for n in named_paragraphs(question) if re.fullmatch(r"\d{1,4}", n))
    label = named_section(question)
    if label and len(label) == 1 and label not in headings:  # "part E": the first top-level section that has it
        label = next((h for h in sorted(headings) if h.endswith(f".{label}") and h.count(".") == 1), None)
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
    #: The document searched when only one was (citations then need no document).
    single_document: str | None = None


@lru_cache(maxsize=200_000)
def sentence_tokens(sentence: str, speaker: str, language: str) -> frozenset[str]:
    """The French stems of a sentence, which the answer composer and the abstention rules compare
    a question's terms with (``asked.readings``: an English question's terms are the glossary's
    French words). A sentence of an English document also holds the French words the glossary
    gives for its English terms, so that those terms meet there too; its own words stay, so a name
    or a word the glossary lacks meets the question's word as written."""
    tokens = tokenize(f"{sentence} {speaker}")
    if language == "en":
        tokens += tokenize(" ".join(glossary().french_for(sentence)))
    return frozenset(tokens)


class _RestrictedLexical:
    """A library's lexical scores, read for some of its units only."""

    def __init__(self, lexical, positions: np.ndarray):
        self._lexical, self._positions = lexical, positions

    def scores(self, question: str) -> np.ndarray:
        return self._lexical.scores(question)[self._positions]


class Retriever:
    """Dense + lexical retrieval over one index (the whole library, or some of its documents:
    ``restricted``)."""

    def __init__(self, index: Index, settings: Settings, lexical=None):
        self.index = index
        self.settings = settings
        languages = {u.document: DEFAULT_LANGUAGE for u in index.units} | {
            doc: r.language or DEFAULT_LANGUAGE for doc, r in index.reports.items()}
        #: The documents searched, in index order.
        self.documents: tuple[str, ...] = tuple(dict.fromkeys(u.document for u in index.units))
        #: The document searched when there is one: paragraph numbers and section labels are its.
        self.single_document: str | None = self.documents[0] if len(self.documents) == 1 else None
        self.lexical = lexical or index.lexical or LibraryLexical.build(index.units, index.reports)
        self.position = {u.id: i for i, u in enumerate(index.units)}
        #: The units' vectors (row = position), for scoring a sentence with its paragraph.
        self.unit_vectors = (index.vectors.reconstruct_n(0, len(index.units)) if index.units
                             else np.zeros((0, index.vectors.d), dtype=np.float32))
        self._headings = ({u.heading_label: u.section[-1] for u in index.units if u.kind == "heading"}
                          if self.single_document else {})
        all_text = " ".join(u.text for u in index.units)
        #: Every word of the library, folded; every number of it, normalised.
        self.vocabulary = frozenset(fold(w) for w in re.findall(r"\w+", all_text))
        self.report_numbers = frozenset(numbers(all_text))
        self.report_ordinals = frozenset(ordinals(all_text))  # "quatorzième" -> 14
        #: unit id -> [(row in index.sentence_vectors, sentence)]
        self.sentence_owners: dict[str, list[tuple[int, str]]] = {}
        owners = unit_sentences(index.units)
        for row, (position, sentence) in enumerate(owners):
            self.sentence_owners.setdefault(index.units[position].id, []).append((row, sentence))
        self._is_heading = np.array([u.kind == "heading" for u in index.units], dtype=bool)
        # Each language's units (its documents'), for the cross-language shift of the dense rankings.
        unit_languages = np.array([languages[u.document] for u in index.units], dtype=object)
        self._language_units = {lang: np.flatnonzero(unit_languages == lang) for lang in set(unit_languages)}
        self._sentence_unit = np.array([position for position, _ in owners], dtype=np.int64)
        #: Stemmed words of each sentence (row order), for the answer composer's word overlap.
        self.sentence_tokens = [sentence_tokens(sentence, speaker_of(index.units[position]),
                                                languages[index.units[position].document])
                                for position, sentence in owners]
        self.stems = frozenset().union(*self.sentence_tokens)  # every lexical token of the library
        #: The stems of the bodies the searched documents are about (``Report.common_acronyms``: the
        #: seed's ONUDC, and UNODC, its English name): words a question on them says nothing with
        #: (``asked.topic_terms``), as "how" or "report".
        self.common_stems = frozenset(tokenize(" ".join(
            form for r in index.reports.values() for a in r.common_acronyms for form in sorted(acronym_forms(a)))))
        #: The report's names (places, bodies, people: its capitalised words, folded, but for a
        #: sentence's first), each with the rows of the sentences that hold it.
        self.name_rows: dict[str, list[int]] = {}
        for row, (_, sentence) in enumerate(owners):
            for name in {fold(m.group()) for m in _NAME.finditer(sentence) if m.start() > 0}:
                self.name_rows.setdefault(name, []).append(row)
        self._scopes: OrderedDict[frozenset[str], Retriever] = OrderedDict()
        self._scopes_lock = threading.Lock()

    def restricted(self, documents) -> Retriever:
        """The same retrieval over some of the documents only (their units, sentences and
        vectors; BM25 as the library reads it), with these settings. Built once per set of
        documents (a few are kept, shared by the copies that differ in search settings)."""
        wanted = frozenset(documents) & frozenset(self.documents)
        if wanted == frozenset(self.documents):
            return self
        with self._scopes_lock:
            scoped = self._scopes.get(wanted)
            if scoped is not None:
                self._scopes.move_to_end(wanted)
        if scoped is None:
            scoped = self._build_restricted(wanted)
            with self._scopes_lock:
                self._scopes[wanted] = scoped
                if len(self._scopes) > _MAX_SCOPES:
                    self._scopes.popitem(last=False)
        if scoped.settings is not self.settings:  # a copy sharing the heavy parts, with ours
            scoped = copy.copy(scoped)
            scoped.settings = self.settings
        return scoped

    def _build_restricted(self, wanted: frozenset[str]) -> Retriever:
        import faiss

        positions = np.array([i for i, u in enumerate(self.index.units) if u.document in wanted], dtype=np.int64)
        keep = np.zeros(len(self.index.units), dtype=bool)
        keep[positions] = True
        rows = np.flatnonzero(keep[self._sentence_unit]) if len(self._sentence_unit) else np.zeros(0, np.int64)
        vectors = faiss.IndexFlatIP(self.index.vectors.d)
        if len(positions):
            vectors.add(np.ascontiguousarray(self.unit_vectors[positions]))
        sub = Index([self.index.units[i] for i in positions], vectors, self.index.embedder, self.index.manifest,
                    np.ascontiguousarray(self.index.sentence_vectors[rows]),
                    {d: r for d, r in self.index.reports.items() if d in wanted})
        return Retriever(sub, self.settings, lexical=_RestrictedLexical(self.lexical, positions))

    def for_question(self, question: str) -> Retriever:
        """Restricted to the documents the question names by their id ("What does S/2025/303
        say about…"), if it names any of those searched; else this retriever."""
        if self.single_document:
            return self
        named = [d for d in self.documents if _names(question, d)]
        return self.restricted(named) if named else self

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
        # Paragraph numbers and section labels belong to one document: a question naming them is
        # answered directly only when one document is searched.
        ref = structural_reference(question, self._headings) if self.single_document else StructuralRef()
        if not ref.heading and self.settings.heading_weight != 1.0:
            fused = np.where(self._is_heading, fused * self.settings.heading_weight, fused)
        doc = self.single_document or ""
        direct: list[int] = [self.position[unit_id(doc, f"p{n}")] for n in ref.paragraphs
                             if unit_id(doc, f"p{n}") in self.position]
        if ref.heading:
            direct.append(self.position[unit_id(doc, f"h:{ref.heading}")])
            members = [self.position[unit_id(doc, f"p{n}")] for n in self._heading_paragraphs(ref.heading)]
            direct.extend(sorted(members, key=lambda i: -fused[i]))
        top = max(float(fused.max()), 1e-9) if len(fused) else 1e-9
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
        return Retrieval(question, passages[:k], query, fused, ref, self.single_document)

    def _heading_paragraphs(self, label: str) -> list[int]:
        unit = self.index.units[self.position[unit_id(self.single_document or "", f"h:{label}")]]
        return [u.paragraph for u in self.index.units
                if u.kind == "paragraph" and u.section[:len(unit.section)] == unit.section]

    def _language_shift(self, question: str) -> np.ndarray | None:
        """What to add to each unit's cosine before ranking: ``settings.cross_language_shift``
        for units in another language than the question's (None when nothing is shifted: one
        language in the library, or no shift set for the pair). Why: the encoder ranks passages in
        the question's language above equally relevant ones in another, and in a library of
        several languages an English question on a French report lost to English reports."""
        if len(self._language_units) < 2:
            return None
        asked = detect_language(question)
        pairs = self.settings.language_shifts()
        shift = np.zeros(len(self.index.units))
        for lang, units in self._language_units.items():
            if lang != asked:
                shift[units] = pairs.get((asked, lang), 0.0)
        return shift if shift.any() else None

    def _fused_scores(self, question: str, query: np.ndarray) -> np.ndarray:
        """The dense, sentence and lexical rankings' top ``candidates`` combined
        (``settings.fusion``: scores scaled per ranking, or reciprocal ranks), weighted."""
        s, n = self.settings, len(self.index.units)
        fused = np.zeros(n, dtype=np.float64)
        shift = self._language_shift(question)
        if shift is None:
            hits = self.index.search(query, s.candidates)
            dense, dense_scores = [i for i, _ in hits], np.array([score for _, score in hits])
        else:  # the shift can lift a unit from below any top list: all are scored (languages mix in small libraries)
            shifted = self.unit_vectors @ query + shift
            dense = np.argsort(-shifted, kind="stable")[: s.candidates]
            dense_scores = shifted[dense]
        _add_ranking(fused, dense, dense_scores, s.dense_weight, s)
        if s.sentence_weight:
            # A paragraph also ranks by its single closest sentence: a long paragraph's vector
            # blurs the one fact a question asks about.
            best = np.full(n, -1.0)
            np.maximum.at(best, self._sentence_unit, self.index.sentence_vectors @ query)
            if shift is not None:
                best = np.where(best > -1.0, best + shift, best)
            order = np.argsort(-best, kind="stable")[: s.candidates]
            order = order[best[order] > -1.0]
            _add_ranking(fused, order, best[order], s.sentence_weight, s)
        lexical = self.lexical.scores(question)
        order = np.argsort(-lexical, kind="stable")[: s.candidates]
        order = order[lexical[order] > 0]
        _add_ranking(fused, order, lexical[order], s.lexical_weight, s)
        return fused

    def _passage(self, position: int, score: float, found_by: str) -> Passage:
        u: Unit = self.index.units[position]
        return Passage(paragraph=u.paragraph, section=u.section, text=u.text, score=round(score, 6),
                       kind=u.kind, unit_id=u.id, found_by=found_by, document=u.document)


def _add_ranking(fused: np.ndarray, order, scores: np.ndarray, weight: float, settings: Settings) -> None:
    """Add one ranking (unit positions best first, with their scores) to ``fused``.

    "minmax" (the default): each score scaled to 0-1 between the ranking's last and first, times
    ``weight``. Reciprocal ranks ("rrf") give the first of a ranking the same credit whether it
    matches the question well or barely: a BM25 list whose best unit shares one common word with
    a reworded question outvoted a confident dense list. Scaled scores keep how far ahead the
    first is. Cross-validated over evals dev, 5 folds by paragraph (README "Evaluation").
    """
    if weight == 0 or len(order) == 0:
        return
    order = np.asarray(order, dtype=np.int64)
    if settings.fusion == "rrf":
        fused[order] += weight / (settings.rrf_k + np.arange(1, len(order) + 1))
        return
    scores = np.asarray(scores, dtype=np.float64)
    spread = float(scores[0] - scores[-1])
    fused[order] += weight * ((scores - scores[-1]) / spread if spread > 0 else np.ones(len(order)))


_MAX_SCOPES = 32  # sets of documents whose restricted retrievers are kept


def _names(question: str, document: str) -> bool:
    """Does the question name the document by its id ("S/2025/303", any case)?"""
    return re.search(rf"(?<![\w/.]){re.escape(document)}(?![\w/]|\.\w)", question, re.IGNORECASE) is not None


_lock = threading.Lock()
# Retrievers that differ only in search settings are cheap copies; the most recent are kept (a
# caller passing a new weight on every call grew this without end: the fuzz run's RSS).
_retrievers: OrderedDict[tuple, Retriever] = OrderedDict()
_MAX_SEARCH_VARIANTS = 64
_by_index: dict[tuple, Retriever] = {}
# The settings that decide what the index holds; the others (k, fusion weights, answering) only
# change how it is searched, so retrievers that differ in those share the index and BM25.
_INDEX_FIELDS = (*INDEX_FIELDS, "threads")


def _index_key(settings: Settings) -> tuple:
    return tuple(getattr(settings, name) for name in _INDEX_FIELDS)


def get_retriever(settings: Settings | None = None, documents=None) -> Retriever:
    """The process-wide retriever for these settings (index loaded or rebuilt once per index),
    over the whole library or, given ``documents`` (ids), over those only. ``ValueError`` for a
    document the library does not hold, or an empty library."""
    settings = settings or Settings.from_env()
    wanted = check_documents(documents)
    with _lock:
        key = _index_key(settings)
        if key not in _by_index:
            _by_index[key] = Retriever(ensure_index(settings), settings)
        base = _by_index[key]
    if not base.documents:
        raise InvalidInput(f"the library in {settings.corpus_dir} holds no document: add one with "
                           "`assistant add FILE` (a PDF, markdown or text report)")
    scope = None
    if wanted:
        unknown = [d for d in wanted if d not in base.documents]
        if unknown:
            raise InvalidInput(f"no document {', '.join(map(repr, unknown))} in the library; "
                               f"it holds: {', '.join(base.documents)}")
        scope = frozenset(wanted) if frozenset(wanted) != frozenset(base.documents) else None
    cache_key = (settings, scope)
    with _lock:
        if cache_key not in _retrievers:
            scoped = base.restricted(scope) if scope else base
            _retrievers[cache_key] = copy.copy(scoped)  # shares the heavy parts
            _retrievers[cache_key].settings = settings
            if len(_retrievers) > _MAX_SEARCH_VARIANTS:
                _retrievers.popitem(last=False)
        _retrievers.move_to_end(cache_key)
        return _retrievers[cache_key]


def install(retriever: Retriever) -> None:
    """Make ``retriever`` (over a rebuilt index) the one every later search with its index's
    settings uses. Searches under way finish with the retriever they started with: nothing
    they hold is changed, only the cache that hands retrievers out."""
    key = _index_key(retriever.settings)
    with _lock:
        _by_index[key] = retriever
        for cached in [c for c in _retrievers if _index_key(c[0]) == key]:
            del _retrievers[cached]


def forget(settings: Settings) -> None:
    """Drop the retrievers over the index of ``settings`` (its library changed): the next search
    builds one over the index ``ensure_index`` now returns."""
    key = _index_key(settings)
    with _lock:
        _by_index.pop(key, None)
        for cached in [c for c in _retrievers if _index_key(c[0]) == key]:
            del _retrievers[cached]


def retrieve(question: str, k: int = 5, settings: Settings | None = None, documents=None) -> list[Passage]:
    """The ``k`` units that best answer ``question``, best first, from the whole library or from
    ``documents`` (a list of document ids, e.g. ``["S/2025/303"]``) only.

    Each ``Passage`` has ``document``, ``paragraph`` (None for a section heading or the summary),
    ``section``, ``text`` and ``score``. Raises ``ValueError`` for an empty, over-long or non-text
    question, a ``k`` that is not a whole number from 1 to 1000, settings that cannot be used, or a
    document the library does not hold, as ``answer()`` does.
    """
    settings = check_settings(settings)
    k, question = check_k(k), check_question(question, settings)  # before the index loads
    check_documents(documents)
    return get_retriever(settings, documents).for_question(question).retrieve(question, k)


class ReportRetriever(BaseRetriever):
    """The same retrieval as a LangChain retriever: drops into any LangChain chain."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    settings: Settings = Settings()
    k: int = 5
    #: Document ids to search; None: the whole library.
    documents: list[str] | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun
                                ) -> list[Document]:
        return [passage_document(p) for p in retrieve(query, self.k, self.settings, self.documents)]


def passage_document(p: Passage) -> Document:
    return Document(page_content=p.text, id=p.unit_id,
                    metadata={"document": p.document, "paragraph": p.paragraph, "section": list(p.section),
                              "score": p.score, "kind": p.kind, "found_by": p.found_by})

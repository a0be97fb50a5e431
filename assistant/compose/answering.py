"""Compose a cited answer from the report's own sentences, or say the report does not answer.

The default mode is extractive: it quotes the sentences of the retrieved paragraphs that best
answer the question, each followed by its citation: "(§12)" when one document is searched,
"(S/2025/303 §12)" when several are. Nothing is paraphrased, so every number in an answer stands
in the paragraph it cites. ``Answer.citations`` are the quoted paragraphs, as data. A question
that names a paragraph or a section of the one document searched is answered from it directly.
With ``settings.llm`` set, ``generate.py`` writes the answer through a LangChain chat model and
this module verifies and falls back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..records import Answer, Passage, Quote
from ..search.retrieval import Retrieval, Retriever, get_retriever
from ..settings import Settings
from ..text import detect_language, sentences
from ..validation import check_documents, check_request
from .abstention import should_abstain
from .asked import asked_kinds, question_parts, stands_in, topic_terms
from .citations import citation_mark, citations_of
from .conversation import standalone_question
from .references import missing_part, missing_text

_ABSTAIN_TEXT = {
    "fr": "Le rapport ne le dit pas : aucun de ses paragraphes ne répond à cette question. "
          "Les paragraphes les plus proches sont proposés ci-dessous.",
    "en": "The report does not say: none of its paragraphs answers this question. "
          "The closest paragraphs are offered below.",
}
_ABSTAIN_TEXT_LIBRARY = {
    "fr": "Les rapports consultés ne le disent pas : aucun de leurs paragraphes ne répond à cette question. "
          "Les paragraphes les plus proches sont proposés ci-dessous.",
    "en": "The reports searched do not say: none of their paragraphs answers this question. "
          "The closest paragraphs are offered below.",
}
_VAGUE_TEXT = {
    "fr": "La question ne dit pas sur quoi elle porte : précisez un sujet, un pays ou un paragraphe "
          "(par exemple « Que dit le paragraphe 46 ? »). Quelques paragraphes sont proposés ci-dessous.",
    "en": "The question does not say what it is about: name a topic, a country or a paragraph "
          "(for example \"What does paragraph 46 say?\"). Some paragraphs are offered below.",
}
# What an answer opens with: (one report, several) by the question's language; then the language
# of what is quoted when it is not the question's and is one language.
_LEAD = {"fr": ("Selon le rapport", "Selon les rapports"), "en": ("The report says", "The reports say")}
_LANGUAGE_NOTE = {"fr": {"fr": "en français", "en": "en anglais", "es": "en espagnol", "ru": "en russe",
                         "ar": "en arabe", "zh": "en chinois"},
                  "en": {"fr": "in French", "en": "in English", "es": "in Spanish", "ru": "in Russian",
                         "ar": "in Arabic", "zh": "in Chinese"}}


@dataclass
class _Candidate:
    passage: Passage
    sentence: str
    score: float
    overlap: float
    cosine: float
    row: int  # in index.sentence_vectors


def answer(question: str, settings: Settings | None = None, history: list[str] | None = None,
           on_token: Callable[[str], None] | None = None, documents: list[str] | None = None,
           **overrides) -> Answer:
    """Answer ``question`` from the library (or from ``documents``, a list of document ids such as
    ``["S/2025/303"]``; None or empty: every document), citing document and paragraph.

    ``overrides`` are settings fields (``k=8``, ``llm="openai:…"``). ``history`` holds the
    conversation's earlier questions, oldest first: a follow-up such as "et en 2018 ?" is rewritten
    into a standalone question from them (``Answer.standalone_question``). In the generative mode,
    ``on_token`` receives the tokens as they are generated (before verification). Raises
    ``ValueError`` (``validation.InvalidInput``) for an empty, over-long or non-text question, a
    history that is not a list of such questions, and a setting of the wrong type or range or an
    unknown name, or a document the library does not hold (see ``validation.py``). Returns an
    ``Answer`` whose ``citations`` are the ``Citation(document, paragraph)`` it quotes, in order,
    and whose ``abstained`` is true when the documents do not answer (or the one searched has no
    paragraph or section the question names). The text cites "(§12)" when one document is
    searched (the library holds one, or ``documents`` names one, or the question names one by its
    symbol), else "(S/2025/303 §12)".
    """
    started = time.perf_counter()
    # Checked before anything loads, the question's length before a follow-up is merged with
    # the question before it (the merged text is longer than either and is nobody's typing).
    question, previous, settings = check_request(question, settings, history, overrides, on_token)
    check_documents(documents)
    standalone = standalone_question(question, previous, settings.follow_up_own_terms)
    retriever = get_retriever(settings, documents).for_question(standalone)
    found = retriever.search(standalone)
    retrieved = time.perf_counter()
    language = detect_language(found.question)
    result = _compose(retriever, found, language, settings)
    # Whether the report answers at all is the extractive detector's call, in both modes: a chat
    # model answers "the capital of Australia" from what it knows (both test models did, citing a
    # paragraph on something else). So a question it turns away is never sent to the model.
    if settings.llm and not result.abstained:
        from .generate import generate_answer

        result = generate_answer(found, language, settings, extractive=result, on_token=on_token)
    done = time.perf_counter()
    result.question = question
    if standalone != question:
        result.standalone_question = standalone
    result.timings.update(retrieve=round(retrieved - started, 4), compose=round(done - retrieved, 4),
                          total=round(done - started, 4))
    return result


def _compose(retriever: Retriever, found: Retrieval, language: str, settings: Settings) -> Answer:
    languages = {doc: r.language for doc, r in retriever.index.reports.items()}
    if found.single_document:
        if missing := missing_part(found.question, retriever.index.units):  # "§200", "section IX.Z"
            return _abstention(found, missing_text(missing, retriever.index.units, language), language)
        if found.ref.paragraphs or found.ref.heading:
            direct = _direct_answer(found, language, languages)
            if direct is not None:
                return direct
    topic = topic_terms(found.question, common=retriever.common_stems)
    if not topic:  # "Qui ?", "§", "What happened?": nothing to look for
        return _abstention(found, _VAGUE_TEXT[language], language)
    candidates = _score_sentences(retriever, found, settings)
    if not candidates or should_abstain(retriever, found, topic):
        texts = _ABSTAIN_TEXT if found.single_document else _ABSTAIN_TEXT_LIBRARY
        return _abstention(found, texts[language], language)
    chosen = _choose(candidates, found.question, retriever, found, settings)
    quotes = [Quote(c.passage.paragraph, c.sentence, c.passage.document) for c in chosen]
    return _quoted_answer(found, language, quotes, "extractive", languages)


def _abstention(found: Retrieval, text: str, language: str) -> Answer:
    """No citation; the closest paragraphs still go with it, as "see also"."""
    return Answer(question=found.question, text=text, citations=[], passages=found.passages, abstained=True,
                  language=language, mode="extractive")


def lead(language: str, quoted: list[str], languages: dict[str, str]) -> str:
    """The words before the quotes: "Selon le rapport :", "The reports say (in French):"…
    ``quoted``: the documents quoted, in order."""
    docs = list(dict.fromkeys(quoted))
    several = len(docs) > 1
    text = _LEAD[language][several]
    spoken = {languages.get(d) or "fr" for d in docs}
    if len(spoken) == 1 and (other := spoken.pop()) != language:
        text += f" ({_LANGUAGE_NOTE[language].get(other, other)})"
    return text + (" :" if language == "fr" else ":")


def _quoted_answer(found: Retrieval, language: str, quotes: list[Quote], mode: str, languages: dict[str, str],
                   preface: str | None = None) -> Answer:
    lines = [preface or lead(language, [q.document for q in quotes], languages)]
    lines += [f"« {q.sentence} » {citation_mark([q.citation], found.single_document)}" for q in quotes]
    return Answer(question=found.question, text="\n".join(lines), citations=citations_of(quotes),
                  passages=found.passages, abstained=False, language=language, mode=mode, quotes=quotes)


def _direct_answer(found: Retrieval, language: str, languages: dict[str, str]) -> Answer | None:
    """A question naming paragraphs gets them whole; one naming a section gets its outline."""
    direct = [p for p in found.passages if p.found_by == "direct"]
    named = [p for p in direct if p.paragraph in found.ref.paragraphs]
    if named:
        quotes = [Quote(p.paragraph, p.text, p.document) for p in named]
        return _quoted_answer(found, language, quotes, "direct", languages)
    heading = next((p for p in direct if p.kind == "heading"), None)
    members = [p for p in direct if p.kind == "paragraph"]
    if heading is None or not members:
        return None
    span = re.search(r"\(§(\d+)–§(\d+)\)", heading.text)
    numbers_ = sorted(p.paragraph for p in members)
    first, last = (span.group(1), span.group(2)) if span else (numbers_[0], numbers_[-1])
    path = " > ".join(heading.section)
    spoken = languages.get(heading.document) or "fr"
    note = f" ({_LANGUAGE_NOTE[language].get(spoken, spoken)})" if spoken != language else ""
    preface = (f"La partie « {path} » couvre les paragraphes §{first} à §{last}. Ses paragraphes les plus "
               f"pertinents disent{note} :" if language == "fr" else
               f"The part « {path} » covers paragraphs §{first} to §{last}. Its most relevant paragraphs "
               f"say{note}:")
    quotes = [Quote(p.paragraph, sentences(p.text)[0], p.document) for p in members[:3]]
    return _quoted_answer(found, language, quotes, "direct", languages, preface=preface)


def _score_sentences(retriever: Retriever, found: Retrieval, settings: Settings, question: str | None = None,
                     query_vector=None) -> list[_Candidate]:
    """Every sentence of the retrieved paragraphs, scored against the question (or one part of
    it): closeness in meaning, shared words, whether it holds what is asked (a count, a date),
    and the rank of its paragraph."""
    question = question or found.question
    query_vector = found.query_vector if query_vector is None else query_vector
    index = retriever.index
    # Shared words are counted by the question's topic terms, in the report's words (an English
    # term through the glossary, a phrase as a whole: "restorative justice" is held by "justice
    # réparatrice", not by every sentence saying "justice"), leaving out the words any question
    # may use ("how", "did", and the body the documents are about: "UNODC" in the seed). Counting
    # every token let them outvote the one word that mattered. Dev: coverage 0.921 -> 0.933 (EN
    # 0.857 -> 0.881), FR unchanged.
    topic = topic_terms(question, common=retriever.common_stems)
    asked = asked_kinds(question)
    top = max((p.score for p in found.passages), default=1.0) or 1.0
    out = []
    for rank, passage in enumerate(found.passages):
        if passage.kind != "paragraph":
            continue
        paragraph_cosine = float(retriever.unit_vectors[retriever.position[passage.unit_id]] @ query_vector)
        for row, sentence in retriever.sentence_owners.get(passage.unit_id, []):
            cosine = float(index.sentence_vectors[row] @ query_vector)
            tokens = retriever.sentence_tokens[row]
            overlap = sum(stands_in(t, tokens) for t in topic) / max(1, len(topic))
            score = (cosine + settings.overlap_weight * overlap + settings.paragraph_weight * paragraph_cosine
                     + settings.passage_rank_weight * passage.score / top - 0.005 * rank)
            for holds in asked:
                score += 0.03 if holds(sentence) else -0.05
            # For a question asking no figure, date or place, a sentence holding every term of it
            # (at least settings.held_terms of them) is the one that made the detector answer
            # (abstention._stands_out): quote it, though a sentence on the same words' neighbours
            # ("le Groupe … créé par le Secrétaire général") may lie closer in meaning. A question
            # asking for a figure is answered by the figure instead: "comptait 187 parties"
            # answers "combien d'États sont parties", though "États" stands in another sentence.
            # Dev: no answer changed at 0.02-0.1.
            if not asked and overlap == 1 and len(topic) >= settings.held_terms:
                score += settings.held_bonus
            out.append(_Candidate(passage, sentence, score, overlap, cosine, row))
    return sorted(out, key=lambda c: -c.score)


def _choose(candidates: list[_Candidate], question: str, retriever: Retriever, found: Retrieval,
            settings: Settings) -> list[_Candidate]:
    """The best sentence; for a multi-part question, the best sentence of another paragraph for
    each further part; then a close runner-up from another paragraph."""
    parts = question_parts(question)
    if len(parts) < 2:
        chosen = [candidates[0]]
    else:
        chosen = []
        vectors = retriever.index.embedder.embed_queries(parts)
        for i, (part, vector) in enumerate(zip(parts, vectors, strict=True)):
            used = {c.passage.citation for c in chosen}
            others = [v for j, v in enumerate(vectors) if j != i]
            # Each part gets the sentence that answers it specifically: a sentence as close to
            # the other parts (a general statement about all of them) is worth less.
            ranked = sorted(_score_sentences(retriever, found, settings, part, vector), key=lambda c: -(
                c.score - 0.5 * max(float(retriever.index.sentence_vectors[c.row] @ v) for v in others)))
            best = next((c for c in ranked if c.passage.citation not in used), None)
            if best is not None:
                chosen.append(best)
    # The best sentence may name the subject while the figure, date or place asked for stands in
    # another sentence of the same paragraph: quote that one too.
    for holds in asked_kinds(question):
        first = chosen[0]
        if not holds(first.sentence):
            same = next((c for c in candidates if c.passage.citation == first.passage.citation
                         and c is not first and holds(c.sentence)), None)
            if same is not None and same not in chosen:
                chosen.insert(1, same)
    # A sentence rarely says everything: the best paragraph's next-best sentence, when close.
    if len(parts) < 2 and settings.same_paragraph_margin > 0:
        first = chosen[0]
        second = next((c for c in candidates if c.passage.citation == first.passage.citation
                       and c is not first and c not in chosen), None)
        if second is not None and second.score >= first.score - settings.same_paragraph_margin:
            chosen.append(second)
    for c in candidates[1:]:
        if len(chosen) >= settings.max_quotes:
            break
        if c.score >= candidates[0].score - settings.runner_up_margin and c.passage.citation not in {
                x.passage.citation for x in chosen}:
            chosen.append(c)
    return chosen[: settings.max_quotes]


"""Compose a cited answer from the report's own sentences, or say the report does not answer.

The default mode is extractive: it quotes the sentences of the retrieved paragraphs that best
answer the question, each followed by its paragraph number. Nothing is paraphrased, so every
number in an answer stands in the paragraph it cites. A question that names a paragraph or a
section is answered from it directly. With ``settings.llm`` set, ``generate.py`` writes the
answer through a LangChain chat model and this module verifies and falls back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from .conversation import standalone_question
from .glossary import glossary
from .lexical import tokenize
from .records import Answer, Passage, Quote
from .retrieval import Retrieval, Retriever, check_question, get_retriever
from .settings import Settings
from .text import detect_language, fold, numbers, ordinals, question_search_text, sentences

CITATION = re.compile(r"§(\d{1,3})")

# What kind of thing the question asks for, by language-independent patterns.
_ASKS_NUMBER = re.compile(
    r"\bcombien\b|\bquel(?:le)?s? (?:est |était |sont )?(?:le |la )?(?:montant|nombre|pourcentage|part|"
    r"taux|total)\b|\bà quelle fréquence\b|\bhow (?:many|much|often)\b|\bwhat (?:percentage|share|amount|"
    r"number|proportion)\b|\bby how much\b", re.IGNORECASE)
_ASKS_PLACE = re.compile(r"\boù\b|\bdans quel(?:le)?s? (?:ville|pays|région)|\bwhere\b|\bin which (?:city|country|"
                         r"countries|region)", re.IGNORECASE)
_PLACE = re.compile(r"\b(?:à|au|aux|en|dans|de)\s+(?:l['’])?[A-ZÀ-Ý][\w'’-]+")
_ASKS_DATE = re.compile(r"\bquand\b|\bà quelle date\b|\ben quelle année\b|\bwhen\b|\bwhat year\b",
                        re.IGNORECASE)
_YEAR_OR_MONTH = re.compile(
    r"\b(?:19|20)\d\d\b|\b(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|"
    r"novembre|décembre)\b", re.IGNORECASE)
# A count or an amount: a number that is not a year, or a number word.
_COUNT = re.compile(r"\b(?!(?:19|20)\d\d\b)\d[\d  ,.]*|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|"
                    r"onze|douze|vingt|cent|mille|million)s?\b", re.IGNORECASE)
# Numbers that name things rather than count them: resolutions (74/177), "n° 16", "article 11".
_REFERENCES = re.compile(r"\b\d+/\d+(?:/\d+)*\b|\bn°\s*\d+|\b(?:article|chapitre|indicateurs?)\s+[\d.]+",
                         re.IGNORECASE)
# What a count question counts: the words after "combien de" / "how many", up to the verb.
_COUNTED = re.compile(
    r"\bcombien\s+(?:de|d['’])\s*(?P<fr>.+?)(?=\s+(?:ont|a|avait|avaient|sont|est|étaient|était|sera|seront|"
    r"se|s['’]|l['’]|la|le|les|au|aux|à|en|par|pour|dans|sur|ce|cette|il|elle|ils|elles)\b|\s*[?,;]|$)"
    r"|\bhow many\s+(?P<en>.+?)(?=\s+(?:were|was|did|does|do|have|has|had|are|is|will|can|could|would|of|for|in|"
    r"on|at|by|with|from|to|under|that|which|who|the|a|an|\w+ed)\b|\s*[?,;]|$)", re.IGNORECASE)
# "How many people…" may be answered by "1 800 practitioners", "combien de fois" by a number of
# users: a count of anyone, or of times, is not checked.
_ANYONE = r"people|persons|individuals|personnes|gens|individus|fois|times"
# A count stands at most this many words before the thing it counts ("1 800 praticiennes et
# praticiens", "près d'un million de contrôles").
_COUNT_WINDOW = 6
# A question after a share ("quel pourcentage", "what rate") needs one stated; one after an amount
# of money ("quel budget", "how much did it spend") needs a sum in a currency.
_ASKS_PERCENT = re.compile(r"\b(?:pourcentage|percentage|per ?cent|taux|rate|proportion)\b", re.IGNORECASE)
_PERCENT = re.compile(r"%|\bpour cent\b|\bpourcentage|\bmoitié\b|\btiers\b|\bquart\b", re.IGNORECASE)
_ASKS_MONEY = re.compile(r"\b(?:budget|montant|co[uû]te?|cost|costs|spen[dt]|dépens\w*|how much money|"
                         r"combien d['’]argent)\b", re.IGNORECASE)
_AMOUNT_RANKS = 3  # paragraphs searched for the share or sum asked for
_MONEY = re.compile(r"\bdollars?\b|\$|\beuros?\b|€|\bUSD\b|\bEUR\b")
# "Qui préside…", "Who chairs…": the role asked about, the word after "who" (after a copula and
# an article: "qui est le directeur…" asks about a director).
_WHO = re.compile(r"^\s*(?:qui|who)\s+(?:(?:est|sont|était|étaient|is|are|was|were)\s+"
                  r"(?:l['’]|le|la|les|the|a|an)?\s*)?(?P<word>[^\W\d_]+(?:-[^\W\d_]+)*)", re.IGNORECASE)
# Two questions in one: "… et combien …", "… and how many …", "… ; …".
_SECOND_PART = re.compile(r"\s(?:et|and)\s+(?=(?:combien|quel|quelle|quels|quelles|où|quand|qui|how|what|"
                          r"which|where|when|who)\b)|\s*;\s*", re.IGNORECASE)

_ABSTAIN_TEXT = {
    "fr": "Le rapport ne le dit pas : aucun de ses paragraphes ne répond à cette question. "
          "Les paragraphes les plus proches sont proposés ci-dessous.",
    "en": "The report does not say: none of its paragraphs answers this question. "
          "The closest paragraphs are offered below.",
}
_LEAD = {"fr": "Selon le rapport :", "en": "The report says (in French):"}


@dataclass
class _Candidate:
    passage: Passage
    sentence: str
    score: float
    overlap: float
    cosine: float
    row: int  # in index.sentence_vectors


def answer(question: str, settings: Settings | None = None, history: list[str] | None = None,
           on_token: Callable[[str], None] | None = None, **overrides) -> Answer:
    """Answer ``question`` from the report, citing paragraph numbers.

    ``overrides`` are settings fields (``k=8``, ``llm="openai:…"``). ``history`` holds the
    conversation's earlier questions, oldest first: a follow-up such as "et en 2018 ?" is rewritten
    into a standalone question from them (``Answer.standalone_question``). In the generative mode,
    ``on_token`` receives the tokens as they are generated (before verification). Raises ``ValueError``
    for an empty, over-long or non-text question. Returns an ``Answer`` whose ``citations`` are
    the paragraph numbers cited in ``text``, in order, and whose ``abstained`` is true when the
    report does not answer.
    """
    settings = settings or Settings.from_env()
    if overrides:
        settings = settings.replace(**overrides)
    started = time.perf_counter()
    retriever = get_retriever(settings)
    question = check_question(question, settings)
    standalone = standalone_question(question, list(history or []))
    found = retriever.search(standalone)
    retrieved = time.perf_counter()
    language = detect_language(found.question)
    if settings.llm:
        from .generate import generate_answer

        result = generate_answer(found, language, settings, on_token=on_token,
                                 fallback=lambda: _compose(retriever, found, language, settings))
    else:
        result = _compose(retriever, found, language, settings)
    done = time.perf_counter()
    result.question = question
    if standalone != question:
        result.standalone_question = standalone
    result.timings.update(retrieve=round(retrieved - started, 4), compose=round(done - retrieved, 4),
                          total=round(done - started, 4))
    return result


def _compose(retriever: Retriever, found: Retrieval, language: str, settings: Settings) -> Answer:
    if found.ref.paragraphs or found.ref.heading:
        direct = _direct_answer(found, language)
        if direct is not None:
            return direct
    candidates = _score_sentences(retriever, found, settings)
    if not candidates or _should_abstain(retriever, found):
        return Answer(question=found.question, text=_ABSTAIN_TEXT[language], citations=[],
                      passages=found.passages, abstained=True, language=language, mode="extractive")
    chosen = _choose(candidates, found.question, retriever, found, settings)
    quotes = [Quote(c.passage.paragraph, c.sentence) for c in chosen]
    return _quoted_answer(found, language, quotes, mode="extractive")


def _quoted_answer(found: Retrieval, language: str, quotes: list[Quote], mode: str,
                   preface: str | None = None) -> Answer:
    lines = [preface or _LEAD[language]]
    lines += [f"« {q.sentence} » (§{q.paragraph})" for q in quotes]
    text = "\n".join(lines)
    return Answer(question=found.question, text=text, citations=citations_in(text), passages=found.passages,
                  abstained=False, language=language, mode=mode, quotes=quotes)


def citations_in(text: str) -> list[int]:
    """Paragraph numbers cited in ``text`` ("§20"), in order of first appearance, no duplicates."""
    seen: list[int] = []
    for n in CITATION.findall(text):
        if int(n) not in seen:
            seen.append(int(n))
    return seen


def _direct_answer(found: Retrieval, language: str) -> Answer | None:
    """A question naming paragraphs gets them whole; one naming a section gets its outline."""
    direct = [p for p in found.passages if p.found_by == "direct"]
    named = [p for p in direct if p.paragraph in found.ref.paragraphs]
    if named:
        quotes = [Quote(p.paragraph, p.text) for p in named]
        return _quoted_answer(found, language, quotes, mode="direct")
    heading = next((p for p in direct if p.kind == "heading"), None)
    members = [p for p in direct if p.kind == "paragraph"]
    if heading is None or not members:
        return None
    span = re.search(r"\(§(\d+)–§(\d+)\)", heading.text)
    numbers_ = sorted(p.paragraph for p in members)
    first, last = (span.group(1), span.group(2)) if span else (numbers_[0], numbers_[-1])
    path = " > ".join(heading.section)
    preface = (f"La partie « {path} » couvre les paragraphes §{first} à §{last}. Ses paragraphes les plus "
               "pertinents disent :" if language == "fr" else
               f"The part « {path} » covers paragraphs §{first} to §{last}. Its most relevant paragraphs "
               "say (in French):")
    quotes = [Quote(p.paragraph, sentences(p.text)[0]) for p in members[:3]]
    return _quoted_answer(found, language, quotes, mode="direct", preface=preface)


def _score_sentences(retriever: Retriever, found: Retrieval, settings: Settings, question: str | None = None,
                     query_vector=None) -> list[_Candidate]:
    """Every sentence of the retrieved paragraphs, scored against the question (or one part of
    it): closeness in meaning, shared words, whether it holds what is asked (a count, a date),
    and the rank of its paragraph."""
    question = question or found.question
    query_vector = found.query_vector if query_vector is None else query_vector
    index = retriever.index
    question_tokens = set(tokenize(question_search_text(question)))
    asked = _asked_kinds(question)
    top = max((p.score for p in found.passages), default=1.0) or 1.0
    out = []
    for rank, passage in enumerate(found.passages):
        if passage.kind != "paragraph":
            continue
        paragraph_cosine = float(retriever.unit_vectors[retriever.position[passage.unit_id]] @ query_vector)
        for row, sentence in retriever.sentence_owners.get(passage.unit_id, []):
            cosine = float(index.sentence_vectors[row] @ query_vector)
            overlap = len(question_tokens & retriever.sentence_tokens[row]) / max(1, len(question_tokens))
            score = (cosine + settings.overlap_weight * overlap + settings.paragraph_weight * paragraph_cosine
                     + settings.passage_rank_weight * passage.score / top - 0.005 * rank)
            for holds in asked:
                score += 0.03 if holds(sentence) else -0.05
            out.append(_Candidate(passage, sentence, score, overlap, cosine, row))
    return sorted(out, key=lambda c: -c.score)


def _holds_count(sentence: str) -> bool:
    return bool(_COUNT.search(_REFERENCES.sub(" ", sentence)))


def _holds_date(sentence: str) -> bool:
    return bool(_YEAR_OR_MONTH.search(sentence))


def _holds_place(sentence: str) -> bool:
    return bool(_PLACE.search(sentence))


def _readings(text: str, english: bool) -> list[tuple[frozenset[str], ...]]:
    """Each term of ``text`` as the report would write it: its alternatives, each a set of
    French stems (an English term through the glossary, or as written when it has no entry).
    Function words read as nothing and are left out."""
    if english:
        terms = [tuple(frozenset(tokenize(f)) for f in french) if french else (frozenset(tokenize(words)),)
                 for words, french in glossary().spans(text)]
    else:
        terms = [(frozenset(tokenize(word)),) for word in text.split()]
    return [tuple(a for a in t if a) for t in terms if any(t)]


def _stands_in(term: tuple[frozenset[str], ...], tokens: frozenset[str]) -> bool:
    return any(alternative <= tokens for alternative in term)


def counted_terms(question: str, report_stems: frozenset[str] | None = None) -> frozenset[str] | None:
    """The French stems of what a count question counts ("Combien de victimes…", "How many
    teachers…" -> victim, enseign); None when the question does not ask for a count of things, or
    (given the report's stems) when a word of the counted thing is not one the report uses: it
    may be a paraphrase ("gens", "executive summaries" for "résumés analytiques"), and the
    check would be guessing."""
    m = _COUNTED.search(question)
    if not m or re.fullmatch(_ANYONE, (m.group("fr") or m.group("en")).split()[0], re.IGNORECASE):
        return None
    if m.group("fr"):  # the noun comes first: "victimes de la traite" counts victims
        readings = _readings(re.split(r"\s+(?:de|des|du)\s+|\s+d['’]", m.group("fr"))[0], english=False)
    else:
        # English: the words before the verb ("users consulted…" counts users). Any of them may
        # be the one the report uses ("wildlife traffickers", "tools and materials").
        readings = _readings(" ".join(m.group("en").split()[:3]), english=True)
    stems = [frozenset().union(*term) for term in readings]
    if not stems or (report_stems is not None and not all(t & report_stems for t in stems)):
        return None
    return frozenset().union(*stems)


def _role_unanswered(retriever: Retriever, found: Retrieval) -> bool:
    """A who-question ("Qui préside la Commission…", "Who chairs the network…") whose role no
    retrieved sentence gives about what the question names: the role must stand in a sentence
    with more than half the question's other terms. A role the report never words is left alone
    (it may be a paraphrase)."""
    m = _WHO.search(found.question)
    if not m:
        return False
    english = detect_language(found.question) == "en"
    role = _readings(m.group("word"), english)
    if not role or not _stands_in(role[0], retriever.stems):
        return False
    others = [t for t in _readings(found.question[m.end():], english) if _stands_in(t, retriever.stems)]
    for passage in found.passages:
        for row, _ in retriever.sentence_owners.get(passage.unit_id, []):
            tokens = retriever.sentence_tokens[row]
            if _stands_in(role[0], tokens) and 2 * sum(_stands_in(t, tokens) for t in others) > len(others):
                return False
    return True


def _holds_count_of(sentence: str, counted: frozenset[str]) -> bool:
    """Does a count in the sentence count the asked-for thing (a word of it shortly after)?"""
    text = _REFERENCES.sub(" ", sentence)
    for m in _COUNT.finditer(text):
        following = re.findall(r"\w+", text[m.end():])[:_COUNT_WINDOW]
        if counted & set(tokenize(" ".join(following))):
            return True
    return False


def _holds_percent(sentence: str) -> bool:
    return bool(_PERCENT.search(sentence))


def _holds_money(sentence: str) -> bool:
    return bool(_MONEY.search(sentence))


def _asked_kinds(question: str) -> list:
    """Tests for what the question asks for: a count, a date, a place."""
    kinds = [(_ASKS_NUMBER, _holds_count), (_ASKS_DATE, _holds_date), (_ASKS_PLACE, _holds_place),
             (_ASKS_PERCENT, _holds_percent), (_ASKS_MONEY, _holds_money)]
    return [holds for asks, holds in kinds if asks.search(question)]


def _should_abstain(retriever: Retriever, found: Retrieval) -> bool:
    """The report does not answer when the question (README "Abstention"; tuned on evals dev)
    - names a year, figure or ordinal the report never uses, or only names it never mentions;
    - asks who holds a role that no retrieved sentence gives about what the question names;
    - asks for a share or a sum of money that none of the best paragraphs states;
    - asks how many of something that no number in the retrieved paragraphs counts;
    - or has no sentence of the report standing out for it: raw similarity is no signal
      (English questions score lower everywhere), but how far the report's closest sentence
      lies above the question's mean similarity to all its sentences, in standard deviations, is.
    The last three look at one question at a time: a two-part question is not checked by them.
    """
    question = found.question
    if any(n not in retriever.report_numbers for n in numbers(question)):
        return True
    if ordinals(question) - retriever.report_ordinals:  # "the fifteenth Congress"
        return True
    names = [w for w in _PROPER_NAME.findall(question[1:]) if fold(w) not in _GENERIC_NAMES]
    known = [w for w in names if _known_name(w, retriever.vocabulary, retriever.names)]
    # A capitalised English word the glossary translates is a common noun ("Firearms Protocol"):
    # neither a known nor an unknown name.
    unknown = [w for w in names if w not in known and not glossary().french_for(w)]
    if unknown and not known:
        return True
    if _role_unanswered(retriever, found):  # "who chairs the network?" when it names a member
        return True
    if not _is_multi_part(question):
        # The report's budget paragraph turns up for any question saying "budget": only the
        # best paragraphs are searched for the share or sum.
        best = [p.text for p in found.passages if p.kind == "paragraph"][:_AMOUNT_RANKS]
        for asks, holds in ((_ASKS_PERCENT, _holds_percent), (_ASKS_MONEY, _holds_money)):
            if asks.search(question) and not any(holds(t) for t in best):
                return True
        # "How many journalists…" when no number in the paragraphs is followed by journalists.
        # (Only to abstain: to pick the sentence to quote, any count will do, as the report may
        # name the thing otherwise: "comptait 187 parties" answers "combien d'États…".)
        counted = counted_terms(question, retriever.stems)
        if counted and not any(_holds_count_of(sentence, counted) for passage in found.passages
                               for _, sentence in retriever.sentence_owners.get(passage.unit_id, [])):
            return True
    similarities = retriever.index.sentence_vectors @ found.query_vector
    spread = float(similarities.std()) or 1.0
    standout = (float(similarities.max()) - float(similarities.mean())) / spread
    return standout < retriever.settings.abstain_standout


_PROPER_NAME = re.compile(r"\b[A-ZÀ-Ý][a-zà-ÿ]{2,}\b")
# Capitalised words of questions that are not names.
_GENERIC_NAMES = frozenset(fold(w) for w in """What Which Who Where When How Does Did Quel Quelle Quels
Quelles Combien Selon Que Qui Quand Comment Pourquoi Est Sont The Is Are Was Were Has Have Office
Convention Protocol Protocole Conference Conférence Secretary Secrétaire General Général Member
Membres States États Report Rapport Programme Program Global Mondial Assembly Assemblée United
Nations Unies""".split())


def _known_name(name: str, vocabulary: frozenset[str], names: frozenset[str]) -> bool:
    """Is a name in the report, allowing for an inflected or French ending, or under its French
    name ("Japan" is "Japon")?"""
    if fold(name) in vocabulary or any(v.startswith(fold(name)[:5]) for v in vocabulary):
        return True
    # Only a translation that is a name in the report too: "Peace" is "paix", a common noun there.
    french = [fold(w) for term in glossary().french_for(name) for w in term.split()]
    return any(w in names for w in french)


def _choose(candidates: list[_Candidate], question: str, retriever: Retriever, found: Retrieval,
            settings: Settings) -> list[_Candidate]:
    """The best sentence; for a multi-part question, the best sentence of another paragraph for
    each further part; then a close runner-up from another paragraph."""
    parts = _parts(question)
    if len(parts) < 2:
        chosen = [candidates[0]]
    else:
        chosen = []
        vectors = retriever.index.embedder.embed_queries(parts)
        for i, (part, vector) in enumerate(zip(parts, vectors, strict=True)):
            used = {c.passage.paragraph for c in chosen}
            others = [v for j, v in enumerate(vectors) if j != i]
            # Each part gets the sentence that answers it specifically: a sentence as close to
            # the other parts (a general statement about all of them) is worth less.
            ranked = sorted(_score_sentences(retriever, found, settings, part, vector), key=lambda c: -(
                c.score - 0.5 * max(float(retriever.index.sentence_vectors[c.row] @ v) for v in others)))
            best = next((c for c in ranked if c.passage.paragraph not in used), None)
            if best is not None:
                chosen.append(best)
    # The best sentence may name the subject while the figure, date or place asked for stands in
    # another sentence of the same paragraph: quote that one too.
    for holds in _asked_kinds(question):
        first = chosen[0]
        if not holds(first.sentence):
            same = next((c for c in candidates if c.passage.paragraph == first.passage.paragraph
                         and c is not first and holds(c.sentence)), None)
            if same is not None and same not in chosen:
                chosen.insert(1, same)
    # A sentence rarely says everything: the best paragraph's next-best sentence, when close.
    if len(parts) < 2 and settings.same_paragraph_margin > 0:
        first = chosen[0]
        second = next((c for c in candidates if c.passage.paragraph == first.passage.paragraph
                       and c is not first and c not in chosen), None)
        if second is not None and second.score >= first.score - settings.same_paragraph_margin:
            chosen.append(second)
    for c in candidates[1:]:
        if len(chosen) >= settings.max_quotes:
            break
        if c.score >= candidates[0].score - settings.runner_up_margin and c.passage.paragraph not in {
                x.passage.paragraph for x in chosen}:
            chosen.append(c)
    return chosen[: settings.max_quotes]


def _parts(question: str) -> list[str]:
    """The questions within a question ("how many X and how many Y?" is two)."""
    return [p for p in _SECOND_PART.split(question) if p and len(p.split()) >= 2]


def _is_multi_part(question: str) -> bool:
    return len(_parts(question)) >= 2


def numbers_outside_citations(text: str) -> str:
    """The answer without its citation marks, for checking the numbers it states."""
    return CITATION.sub(" ", text)


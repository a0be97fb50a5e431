"""Does the report answer this question at all? The extractive answer's abstention rules.

Each rule looks for what the question asks for in the report or in the retrieved paragraphs;
a word the report never uses is left alone by the rules that would need it (it may be a
paraphrase). README "Abstention" lists them; ``should_abstain`` reads as that list.
"""

from __future__ import annotations

import re

from ..search.glossary import glossary
from ..search.retrieval import Retrieval, Retriever
from ..text import detect_language, fold, numbers, ordinals
from .asked import (
    ASKS_MONEY,
    ASKS_PERCENT,
    ASKS_RANKING,
    counted_terms,
    counts_people,
    holds_count,
    holds_count_of,
    holds_money,
    holds_percent,
    is_multi_part,
    ranked_in,
    readings,
    stands_in,
    topic_terms,
)

# "Qui préside…", "Who chairs…": the role asked about, the word after "who" (after a copula and
# an article: "qui est le directeur…" asks about a director).
_WHO = re.compile(r"^\s*(?:qui|who)\s+(?:(?:est|sont|était|étaient|is|are|was|were)\s+"
                  r"(?:l['’]|le|la|les|the|a|an)?\s*)?(?P<word>[^\W\d_]+(?:-[^\W\d_]+)*)", re.IGNORECASE)


def should_abstain(retriever: Retriever, found: Retrieval, topic: list[tuple[frozenset[str], ...]]) -> bool:
    """The report does not answer when the question (README "Abstention"; tuned on evals dev)
    - names a year, figure or ordinal the report never uses, or only names it never mentions;
    - names a place or body the report mentions, about something no sentence naming it says;
    - asks who holds a role that no retrieved sentence gives about what the question names;
    - asks for the first of a ranking that no retrieved sentence makes;
    - asks for a share or a sum of money that none of the best paragraphs states;
    - asks how many of something that no number in the retrieved paragraphs counts, or how many
      people when no retrieved paragraph with a count is on the question's topic;
    - or has no sentence of the report standing out for it, and no retrieved sentence holding
      every term of it.
    The share, sum and count rules skip a two-part question (one part may be answered).
    ``topic`` is ``asked.topic_terms(found.question, common=retriever.common_stems)``, read once
    by the caller.
    """
    question = found.question
    if any(n not in retriever.report_numbers for n in numbers(question)):
        return True
    if ordinals(question) - retriever.report_ordinals:  # "the fifteenth Congress"
        return True
    # Not one of its words is the report's, even through the glossary ("'; DROP TABLE…", a
    # question in Arabic): the closest sentence would stand out by chance (both did, z ≈ 3).
    # No answerable eval question is like this but one naming a paragraph, answered before.
    if not any(stands_in(t, retriever.stems) for t in topic):
        return True
    # A question's first word is capitalised whatever it is ("Describe…"), so it is no name,
    # unless it is the whole question ("Australia?").
    read = question if len(question.split()) == 1 else question[1:]
    spans = [(re.split(r"[\s-]+", words), french) for words, french in glossary().spans(question) if french]
    # A word of a title the glossary reads whole ("the Stolen Asset Recovery Initiative", "a
    # Sustainable Development Goal") is read through it, not as a name of its own: "Initiative"
    # is no place the question could be off the topic of.
    titled = {w for words, _ in spans if len(words) > 1 for w in words}
    names = [w for w in _PROPER_NAME.findall(read) if fold(w) not in _GENERIC_NAMES and w.lower() not in titled]
    known = {w: forms for w in names if (forms := _name_forms(w, retriever))}
    # A capitalised word the report or the glossary has as a common noun ("Firearms Protocol",
    # "la Corruption", "the Counter-Terrorism Compact") is neither a known nor an unknown name.
    translated = {w for words, _ in spans for w in words}
    unknown = [w for w in names if w not in known and fold(w) not in retriever.vocabulary
               and w.lower() not in translated]
    if unknown and not known:
        return True
    if known:
        others = topic_terms(question, leaving=tuple(known), common=retriever.common_stems)
        if not others:  # "What did UNODC do in Somalia?": what the report says of it answers
            return False
        if _off_topic(retriever, others, known):  # "the population of Japan"
            return True
    if _role_unanswered(retriever, found):  # "who chairs the network?" when it names a member
        return True
    if ASKS_RANKING.search(question) and not _ranking_given(retriever, found, topic):  # "the biggest donor"
        return True
    if not is_multi_part(question):
        # The report's budget paragraph turns up for any question saying "budget": only the
        # best paragraphs are searched for the share or sum.
        best = [p for p in found.passages if p.kind == "paragraph"][:retriever.settings.amount_paragraphs]
        for asks, holds in ((ASKS_PERCENT, holds_percent), (ASKS_MONEY, holds_money)):
            if (m := asks.search(question)) and not _amount_given(retriever, best, holds, question, m.group()):
                return True
        # "How many journalists…" when no number in the paragraphs is followed by journalists.
        # (Only to abstain: to pick the sentence to quote, any count will do, as the report may
        # name the thing otherwise: "comptait 187 parties" answers "combien d'États…".)
        counted = counted_terms(question, retriever.stems)
        if counted and not any(holds_count_of(sentence, counted, retriever.settings.count_window)
                               for _, _, sentence in retriever.sentences_of(found.passages)):
            return True
        # "How many people were arrested…": the report counts people under many names
        # (practitioners, users, victims), so a count must stand in a paragraph on the question's
        # topic instead: one holding more than half its terms.
        if counts_people(question) and not _people_counted(retriever, found):
            return True
    return not _stands_out(retriever, found, topic)


def _amount_given(retriever: Retriever, best: list, holds, question: str, asking: str) -> bool:
    """Does a sentence of the best paragraphs state a share or sum *about what the question
    names*? A sum alone is not enough: the budget paragraph states sums for any question saying
    "cost" ("How much did the Container Control Programme cost?" is not answered by the office's
    total spending). The question's other terms are what it names; without any, any sum will do."""
    others = topic_terms(question, leaving=(asking,), common=retriever.common_stems)
    for _, row, sentence in retriever.sentences_of(best):
        if holds(sentence) and (not others or any(stands_in(t, retriever.sentence_tokens[row]) for t in others)):
            return True
    return False


def _stands_out(retriever: Retriever, found: Retrieval, topic: list[tuple[frozenset[str], ...]]) -> bool:
    """Raw similarity is no signal (English questions score lower everywhere), but how far the
    report's closest sentence lies above the question's mean similarity to all its sentences,
    in standard deviations, is (``Settings.abstain_standout``)."""
    if retriever.settings.abstain_standout <= 0:
        return True  # off (the default): every question stands out at least 0 deviations
    similarities = retriever.index.sentence_vectors @ found.query_vector
    spread = float(similarities.std()) or 1.0
    standout = (float(similarities.max()) - float(similarities.mean())) / spread
    if standout >= retriever.settings.abstain_standout:
        return True
    # Or a retrieved sentence holds every term of the question, as the report words them: an
    # English question's similarities are compressed (it stands out less), its words through the
    # glossary are not. A word the report never uses can never be held, so a question on what
    # the report leaves out ("how many journalists…") is not kept this way. Dev: wrongly
    # abstained 0.041 -> 0.014, coverage 0.918 -> 0.945, one unanswerable question more answered.
    if len(topic) < retriever.settings.held_terms:
        return False
    # A longer question may word one term its own way ("link its work with" for "un lien entre
    # son action et…"): all but one are enough when every term is a word of the report, so a
    # question on something the report never mentions still is not kept. Dev: q196 answered,
    # no unanswerable question more.
    spare = 1 if (len(topic) >= retriever.settings.held_spare_from
                  and all(stands_in(t, retriever.stems) for t in topic)) else 0
    return any(sum(stands_in(t, retriever.sentence_tokens[row]) for t in topic) >= len(topic) - spare
               for _, row, _ in retriever.sentences_of(found.passages))


_PROPER_NAME = re.compile(r"\b[A-ZÀ-Ý][a-zà-ÿ]{2,}\b")
# Capitalised words of questions that are not names.
_GENERIC_NAMES = frozenset(fold(w) for w in """What Which Who Where When How Does Did Quel Quelle Quels
Quelles Combien Selon Que Qui Quand Comment Pourquoi Est Sont The Is Are Was Were Has Have Office
Convention Protocol Protocole Conference Conférence Secretary Secrétaire General Général Member
Membres States États Report Rapport Programme Program Global Mondial Assembly Assemblée United
Nations Unies""".split())
_YEARS = frozenset(str(y) for y in range(1900, 2100))  # a year dates a ranking, it is not what is ranked
def _name_forms(name: str, retriever: Retriever) -> frozenset[str]:
    """The report's names (folded) that a name of the question stands for: itself, with another
    ending ("Colombia", "Colombie"), or its French name ("Japan" is "Japon"). Only capitalised
    words of the report count: "Australia" is not "australe" (Afrique australe)."""
    folded = fold(name)
    forms = {n for n in retriever.name_rows if n == folded or (len(folded) >= 5 and n.startswith(folded[:5]))}
    # Only a translation that is a name in the report too: "Peace" is "paix", a common noun there.
    forms.update(w for term in glossary().french_for(name) for w in map(fold, term.split())
                 if w in retriever.name_rows)
    return frozenset(forms)


def _people_counted(retriever: Retriever, found: Retrieval) -> bool:
    """Does a retrieved paragraph hold a count and more than half the question's other terms?"""
    topic = topic_terms(found.question, leaving=("people personnes gens",), common=retriever.common_stems)
    for passage in found.passages:
        sentences = retriever.sentence_owners.get(passage.unit_id, [])
        if not any(holds_count(sentence) for _, sentence in sentences):
            continue
        tokens = frozenset().union(*(retriever.sentence_tokens[row] for row, _ in sentences))
        if 2 * sum(stands_in(t, tokens) for t in topic) > len(topic):
            return True
    return False


def _ranking_given(retriever: Retriever, found: Retrieval, topic: list[tuple[frozenset[str], ...]]) -> bool:
    """Does a retrieved sentence rank what the question ranks (a superlative or a "principal"
    next to one of its terms)? The report seldom ranks; a question after "the biggest donor"
    would otherwise be answered by whatever it says of donors."""
    ranked = [t for t in topic if not any(a <= _YEARS for a in t)]
    window = retriever.settings.ranked_window
    return any(stands_in(t, ranked_in(sentence, window)) for _, _, sentence in retriever.sentences_of(found.passages)
               for t in ranked)


def _off_topic(retriever: Retriever, others: list[tuple[frozenset[str], ...]],
               known: dict[str, frozenset[str]]) -> bool:
    """A question on something the report says nothing of, about a place or body it does name
    ("the population of Japan", "la monnaie du Mexique", "who is the mayor of Nairobi"): none of
    the question's other terms (``others``) is the report's, or no sentence naming it holds any."""
    said = [t for t in others if stands_in(t, retriever.stems)]
    if not said:
        return True
    for forms in known.values():
        rows = {row for form in forms for row in retriever.name_rows[form]}
        if not any(stands_in(t, retriever.sentence_tokens[row]) for row in rows for t in said):
            return True
    return False


def _role_unanswered(retriever: Retriever, found: Retrieval) -> bool:
    """A who-question ("Qui préside la Commission…", "Who chairs the network…") whose role no
    retrieved sentence gives about what the question names: the role must stand in a sentence
    with more than half the question's other terms. A role the report never words is left alone
    (it may be a paraphrase)."""
    m = _WHO.search(found.question)
    if not m:
        return False
    english = detect_language(found.question) == "en"
    role = readings(m.group("word"), english)
    if not role or not stands_in(role[0], retriever.stems):
        return False
    others = [t for t in readings(found.question[m.end():], english) if stands_in(t, retriever.stems)]
    for _, row, _ in retriever.sentences_of(found.passages):
        tokens = retriever.sentence_tokens[row]
        if stands_in(role[0], tokens) and 2 * sum(stands_in(t, tokens) for t in others) > len(others):
            return False
    return True

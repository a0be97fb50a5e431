"""Does the report answer this question at all? The extractive answer's abstention rules.

Each rule looks for what the question asks for in the report or in the retrieved paragraphs;
a word the report never uses is left alone by the rules that would need it (it may be a
paraphrase). README "Abstention" lists them; ``should_abstain`` reads as that list.
"""

from __future__ import annotations

import re

from .asked import (
    ASKS_MONEY,
    ASKS_PERCENT,
    counted_terms,
    holds_count_of,
    holds_money,
    holds_percent,
    is_multi_part,
    readings,
    stands_in,
)
from .glossary import glossary
from .retrieval import Retrieval, Retriever
from .text import detect_language, fold, numbers, ordinals

_AMOUNT_RANKS = 3  # paragraphs searched for the share or sum asked for
# "Qui préside…", "Who chairs…": the role asked about, the word after "who" (after a copula and
# an article: "qui est le directeur…" asks about a director).
_WHO = re.compile(r"^\s*(?:qui|who)\s+(?:(?:est|sont|était|étaient|is|are|was|were)\s+"
                  r"(?:l['’]|le|la|les|the|a|an)?\s*)?(?P<word>[^\W\d_]+(?:-[^\W\d_]+)*)", re.IGNORECASE)


def should_abstain(retriever: Retriever, found: Retrieval) -> bool:
    """The report does not answer when the question (README "Abstention"; tuned on evals dev)
    - names a year, figure or ordinal the report never uses, or only names it never mentions;
    - asks who holds a role that no retrieved sentence gives about what the question names;
    - asks for a share or a sum of money that none of the best paragraphs states;
    - asks how many of something that no number in the retrieved paragraphs counts;
    - or has no sentence of the report standing out for it: raw similarity is no signal
      (English questions score lower everywhere), but how far the report's closest sentence
      lies above the question's mean similarity to all its sentences, in standard deviations, is.
    The share, sum and count rules skip a two-part question (one part may be answered).
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
    if not is_multi_part(question):
        # The report's budget paragraph turns up for any question saying "budget": only the
        # best paragraphs are searched for the share or sum.
        best = [p.text for p in found.passages if p.kind == "paragraph"][:_AMOUNT_RANKS]
        for asks, holds in ((ASKS_PERCENT, holds_percent), (ASKS_MONEY, holds_money)):
            if asks.search(question) and not any(holds(t) for t in best):
                return True
        # "How many journalists…" when no number in the paragraphs is followed by journalists.
        # (Only to abstain: to pick the sentence to quote, any count will do, as the report may
        # name the thing otherwise: "comptait 187 parties" answers "combien d'États…".)
        counted = counted_terms(question, retriever.stems)
        if counted and not any(holds_count_of(sentence, counted)
                               for _, _, sentence in retriever.sentences_of(found.passages)):
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
    folded = fold(name)
    if folded in vocabulary or any(v.startswith(folded[:5]) for v in vocabulary):
        return True
    # Only a translation that is a name in the report too: "Peace" is "paix", a common noun there.
    french = [fold(w) for term in glossary().french_for(name) for w in term.split()]
    return any(w in names for w in french)


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

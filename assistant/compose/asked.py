"""What a question asks for, and whether a sentence holds it.

Shared by the answer composer (which prefers the sentences holding what is asked: a count, a
date, a place, a share, a sum of money) and the abstention rules (which check that some
retrieved sentence holds it at all). Patterns are written for French and English questions
alike; an English term is read in the report's words through the glossary.
"""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN_PLUS

from ..search.glossary import glossary
from ..search.lexical import tokenize
from ..settings import Settings
from ..text import detect_language

# What kind of thing the question asks for, by language-independent patterns.
_ASKS_NUMBER = re.compile(
    r"\bcombien\b|\bquel(?:le)?s? (?:est |était |sont )?(?:le |la )?(?:montant|nombre|pourcentage|part|"
    r"taux|total)\b|\bà quelle fréquence\b|\bhow (?:many|much|often)\b|\bwhat (?:percentage|share|amount|"
    r"number|proportion)\b|\bby how much\b", re.IGNORECASE)
_ASKS_PLACE = re.compile(r"\boù\b|\bdans quel(?:le)?s? (?:villes?|pays|régions?)\b|\bwhere\b|"
                         r"\bin (?:which|what) (?:cit(?:y|ies)|countr(?:y|ies)|regions?)\b", re.IGNORECASE)
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
_PEOPLE = r"people|persons|individuals|personnes|gens|individus"
_ANYONE = rf"{_PEOPLE}|fois|times"
# A question after a share ("quel pourcentage", "what rate") needs one stated; one after an amount
# of money ("quel budget", "how much did it spend") needs a sum in a currency.
ASKS_PERCENT = re.compile(r"\b(?:pourcentage|percentage|per ?cent|taux|rate|proportion)\b", re.IGNORECASE)
_PERCENT = re.compile(r"%|\bpour cent\b|\bpourcentage|\bmoitié\b|\btiers\b|\bquart\b", re.IGNORECASE)
ASKS_MONEY = re.compile(r"\b(?:budget|montant|co[uû]te?|cost|costs|spen[dt]|dépens\w*|how much money|"
                         r"combien d['’]argent)\b", re.IGNORECASE)
_MONEY = re.compile(r"\bdollars?\b|\$|\beuros?\b|€|\bUSD\b|\bEUR\b")
# A question after the first of a ranking ("le plus grand donateur", "the highest number") needs
# the report to rank that thing: a superlative or a "principal(e)s" next to one of its words.
ASKS_RANKING = re.compile(r"\b(?:le|la|les|l['’])\s*(?:plus|moins)\b|\b(?:le|la|les)\s+(?:meilleure?s?|pire)\b|"
                          r"\b(?:most|least|biggest|largest|highest|lowest|greatest|smallest|fewest|worst|top|"
                          r"best(?! practices?))\b", re.IGNORECASE)  # "best practices" are "bonnes pratiques"
_RANKING = re.compile(r"\b(?:le|la|les|l['’])\s*(?:plus|moins)\b|\bmeilleure?s?\b|\bprincipa(?:l|le|les|ux)\b|"
                      r"\bmajeure?s?\b|\brecord\b", re.IGNORECASE)
# Two questions in one: "… et combien …", "… and how many …", "… ; …".
_SECOND_PART = re.compile(r"\s(?:et|and)\s+(?=(?:combien|quel|quelle|quels|quelles|où|quand|qui|how|what|"
                          r"which|where|when|who)\b)|\s*;\s*", re.IGNORECASE)

# Words that say nothing of a question's topic: function words, question words, the office and
# its report, and verbs any question may use ("what happened in Kyoto?"). The body a document is
# about (the seed's ONUDC, UNODC) is the library's to say: ``Retriever.common_stems``.
EMPTY_STEMS = frozenset(tokenize(" ".join(STOPWORDS_EN_PLUS) + """ quel quelle quels quelles combien comment
pourquoi quand où qui que quoi lequel laquelle many much office rapport report onu un nations
unies united happen happened happens occur occurred take took taken give gave given make made get got say
said says tell told mention mentioned describe described do did does done fait faire passé plus moins
most least"""))


def holds_count(sentence: str) -> bool:
    return bool(_COUNT.search(_REFERENCES.sub(" ", sentence)))


def holds_date(sentence: str) -> bool:
    return bool(_YEAR_OR_MONTH.search(sentence))


def holds_place(sentence: str) -> bool:
    return bool(_PLACE.search(sentence))


def readings(text: str, english: bool) -> list[tuple[frozenset[str], ...]]:
    """Each term of ``text`` as the report would write it: its alternatives, each a set of
    French stems (an English term through the glossary, or as written when it has no entry).
    Function words read as nothing and are left out."""
    if english:
        terms = [tuple(frozenset(tokenize(f)) for f in french) if french else (frozenset(tokenize(words)),)
                 for words, french in glossary().spans(text)]
    else:
        terms = [(frozenset(tokenize(word)),) for word in text.split()]
    return [tuple(a for a in t if a) for t in terms if any(t)]


def stands_in(term: tuple[frozenset[str], ...], tokens: frozenset[str]) -> bool:
    return any(alternative <= tokens for alternative in term)


def topic_terms(question: str, leaving: tuple[str, ...] = (), common: frozenset[str] = frozenset()
                ) -> list[tuple[frozenset[str], ...]]:
    """The terms of a question that say what it is about (in the report's words where the glossary
    has them), but for the words that say nothing of it (``EMPTY_STEMS``, and ``common``: the
    stems of what the searched documents are about, ``Retriever.common_stems``) and those of
    ``leaving``."""
    english = detect_language(question) == "en"
    empty = EMPTY_STEMS | common
    left = frozenset().union(*(a for words in leaving for term in readings(words, english) for a in term))
    return [t for t in readings(question, english) if not any(a <= empty or a & left for a in t)]


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
        terms = readings(re.split(r"\s+(?:de|des|du)\s+|\s+d['’]", m.group("fr"))[0], english=False)
    else:
        # English: the words before the verb ("users consulted…" counts users). Any of them may
        # be the one the report uses ("wildlife traffickers", "tools and materials"), and the
        # last is the noun counted ("new competent national authorities" counts authorities).
        words = m.group("en").split()
        terms = readings(" ".join(words[:3] + words[3:][-1:]), english=True)
    stems = [frozenset().union(*term) for term in terms]
    if not stems or (report_stems is not None and not all(t & report_stems for t in stems)):
        return None
    return frozenset().union(*stems)


def counts_people(question: str) -> bool:
    """Does the question ask how many people ("combien de personnes…", "how many people…")?"""
    m = _COUNTED.search(question)
    return bool(m and re.fullmatch(_PEOPLE, (m.group("fr") or m.group("en")).split()[0], re.IGNORECASE))


def holds_count_of(sentence: str, counted: frozenset[str], window: int = Settings.count_window) -> bool:
    """Does a count in the sentence count the asked-for thing (a word of it at most ``window``
    words after: ``Settings.count_window``)?"""
    text = _REFERENCES.sub(" ", sentence)
    for m in _COUNT.finditer(text):
        following = re.findall(r"\w+", text[m.end():])[:window]
        if counted & set(tokenize(" ".join(following))):
            return True
    return False


def holds_percent(sentence: str) -> bool:
    return bool(_PERCENT.search(sentence))


def holds_money(sentence: str) -> bool:
    return bool(_MONEY.search(sentence))


def ranked_in(sentence: str, window: int = Settings.ranked_window) -> frozenset[str]:
    """The stems next to the sentence's superlatives (``window`` words either side:
    ``Settings.ranked_window``): what it ranks ("les principales routes", "les informations les
    plus courantes")."""
    ranked: set[str] = set()
    for m in _RANKING.finditer(sentence):
        before = re.findall(r"\w+", sentence[:m.start()])[-window:]
        after = re.findall(r"\w+", sentence[m.end():])[:window]
        ranked.update(tokenize(" ".join(before + after)))
    return frozenset(ranked)


def asked_kinds(question: str) -> list:
    """Tests for what the question asks for: a count, a date, a place, a share, a sum of money."""
    kinds = [(_ASKS_NUMBER, holds_count), (_ASKS_DATE, holds_date), (_ASKS_PLACE, holds_place),
             (ASKS_PERCENT, holds_percent), (ASKS_MONEY, holds_money)]
    return [holds for asks, holds in kinds if asks.search(question)]


def question_parts(question: str) -> list[str]:
    """The questions within a question ("how many X and how many Y?" is two)."""
    return [p for p in _SECOND_PART.split(question) if p and len(p.split()) >= 2]


def is_multi_part(question: str) -> bool:
    return len(question_parts(question)) >= 2

"""Turn a follow-up ("et en 2018 ?", "what about firearms?") into a standalone question, using
the previous question of the conversation, before retrieval.

How: a question is a follow-up when it opens with a continuation ("et", "and", "what about",
"qu'en est-il", "et pour", "same for"), is a short fragment with no question word of its own, or
points back with a pronoun ("where did they meet?", "combien de pays en ont profité ?") and names
at most ``Settings.follow_up_own_terms`` things of its own.
Then, if it brings a year or a number and the previous question had one, that value is swapped
into the previous question ("… en 2019 ?" + "et en 2018 ?" → "… en 2018 ?"); otherwise the
fragment is appended to the previous question as its new focus. No model is involved, so the
rewrite is predictable and shown to the user.
"""

from __future__ import annotations

import re

from ..settings import Settings
from .asked import topic_terms

_CONTINUATION = re.compile(
    r"^\s*(?:et\s+(?:pour|en|dans|au|aux|à|sur|concernant)?|and\s+(?:for|in|on|about)?|what\s+about|"
    r"how\s+about|qu['’]en\s+est[- ]il\s+(?:de|du|des|pour)?|same\s+(?:question\s+)?for|"
    r"même\s+question\s+pour)\b\s*", re.IGNORECASE)
_QUESTION_WORD = re.compile(
    r"\b(?:combien|quel|quelle|quels|quelles|où|quand|qui|que|quoi|comment|pourquoi|how|what|which|"
    r"where|when|who|why|does|did|is|are)\b", re.IGNORECASE)
# Words that point back to what was said before: pronouns, and "en" before a verb ("en ont"); not
# "this report" (the one asked about), "so that", nor French inversion ("collabore-t-il").
_ANAPHOR = re.compile(r"\b(?:it|its|they|them|their|these|those|cela|ça|celui|celle|ceux|celles)\b"
                      r"|(?<![-\w])(?:il|elle|ils|elles)\b"  # not "a-t-il", "est-elle": the question's own subject
                      r"|\b(?<!so )(?:that|this)\b(?!\s+(?:report|document))"
                      r"|\ben\s+(?:ont|a|avait|avaient|sont|est|était)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")


def is_follow_up(question: str, own_terms: int = Settings.follow_up_own_terms) -> bool:
    words = question.split()
    if _CONTINUATION.match(question):
        return True
    if len(words) <= 3 and not _QUESTION_WORD.search(question):
        return True
    return bool(_ANAPHOR.search(question)) and len(topic_terms(question)) <= own_terms


def standalone_question(question: str, previous: list[str], own_terms: int = Settings.follow_up_own_terms) -> str:
    """``question`` made standalone using the most recent of ``previous`` (oldest first)."""
    if not previous or not is_follow_up(question, own_terms):
        return question
    before = previous[-1].strip()
    fragment = _CONTINUATION.sub("", question).strip().rstrip("?").strip()
    for pattern in (_YEAR, _NUMBER):
        new, old = pattern.findall(fragment), pattern.findall(before)
        if new and old:
            # Swap the last value of the previous question for the new one.
            head, _, tail = before.rpartition(old[-1])
            return f"{head}{new[0]}{tail}"
    if not fragment:
        return before
    return f"{before.rstrip(' ?')} — {fragment} ?"

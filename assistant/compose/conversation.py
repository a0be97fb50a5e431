"""Turn a follow-up ("et en 2018 ?", "what about firearms?") into a standalone question, using
the previous question of the conversation, before retrieval.

How: a question is a follow-up when it opens with a continuation ("et", "and", "what about",
"qu'en est-il", "et pour", "same for") or is a short fragment with no question word of its own.
Then, if it brings a year or a number and the previous question had one, that value is swapped
into the previous question ("… en 2019 ?" + "et en 2018 ?" → "… en 2018 ?"); otherwise the
fragment is appended to the previous question as its new focus. No model is involved, so the
rewrite is predictable and shown to the user.
"""

from __future__ import annotations

import re

_CONTINUATION = re.compile(
    r"^\s*(?:et\s+(?:pour|en|dans|au|aux|à|sur|concernant)?|and\s+(?:for|in|on|about)?|what\s+about|"
    r"how\s+about|qu['’]en\s+est[- ]il\s+(?:de|du|des|pour)?|same\s+(?:question\s+)?for|"
    r"même\s+question\s+pour)\b\s*", re.IGNORECASE)
_QUESTION_WORD = re.compile(
    r"\b(?:combien|quel|quelle|quels|quelles|où|quand|qui|que|quoi|comment|pourquoi|how|what|which|"
    r"where|when|who|why|does|did|is|are)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")


def is_follow_up(question: str) -> bool:
    words = question.split()
    if _CONTINUATION.match(question):
        return True
    return len(words) <= 3 and not _QUESTION_WORD.search(question)


def standalone_question(question: str, previous: list[str]) -> str:
    """``question`` made standalone using the most recent of ``previous`` (oldest first)."""
    if not previous or not is_follow_up(question):
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

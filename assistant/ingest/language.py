"""The language of a report's text, from its function words."""

from __future__ import annotations

import re

# Function words frequent in any text of the language and rare in the other (no "a", "on",
# "son", "est"... which both languages write).
_EN = frozenset("""the of and to in for with by that this is are was were be been has have from which
its their it as or not at these those also such under other should would""".split())
_FR = frozenset("""le la les des du de et dans pour avec par que qui une sur aux au est sont ont été
ces cette ses leur leurs il elle ainsi également""".split())
_WORD = re.compile(r"[a-zàâçéèêëîïôûùüÿœ]+")


def detect_language(text: str) -> str:
    """ "en" or "fr", whichever language's function words make up more of ``text``; "" when
    neither has any (a text of numbers and names)."""
    words = _WORD.findall(text.lower())
    en = sum(w in _EN for w in words)
    fr = sum(w in _FR for w in words)
    if en == fr == 0:
        return ""
    return "en" if en > fr else "fr"

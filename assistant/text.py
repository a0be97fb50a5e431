"""Text helpers shared by the parser, the indexes and the answer composer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SUP = re.compile(r"<sup>(\d+)</sup>")
_SUP_WORD = re.compile(r"<sup>([^<\d]*)</sup>")  # "1<sup>er</sup> avril"
_EMPHASIS = re.compile(r"(\*\*|\*)(?=\S)(.+?)(?<=\S)\1")
_ESCAPE = re.compile(r"\\([\\*_\[\]()#.!-])")
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUPERSCRIPT_CHARS = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_SPACES = re.compile(r"\s+")


def display_text(markdown: str) -> str:
    """The report's words as a reader sees them: links reduced to their label, escapes and
    emphasis markers removed, footnote markers as superscript digits."""
    text = _MD_LINK.sub(r"\1", markdown)
    text = _SUP.sub(lambda m: m.group(1).translate(_SUPERSCRIPT), text)
    text = _SUP_WORD.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    while (unescaped := _ESCAPE.sub(r"\1", text)) != text:  # "\\_" in the source is an escaped "_"
        text = unescaped
    return _SPACES.sub(" ", text).strip()


def search_text(display: str, variants: Mapping[str, str] | None = None) -> str:
    """Normalised text for the indexes: footnote markers dropped, and each of ``variants`` (a
    document's OCR garbles of its acronyms, ``Report.acronym_variants``) written as its acronym."""
    text = _SUPERSCRIPT_CHARS.sub("", display)
    return unify_variants(_SPACES.sub(" ", text).strip(), variants)


def unify_variants(text: str, variants: Mapping[str, str] | None) -> str:
    """``text`` with every garble of ``variants`` ("ONUDDC", "ONU DC": garble -> acronym) standing
    as a whole word written as its acronym; the two halves of a split one may be apart by any
    whitespace."""
    if not variants:
        return text
    return variants_pattern(frozenset(variants)).sub(lambda m: variants[" ".join(m.group().split())], text)


@lru_cache(maxsize=64)
def variants_pattern(garbles: frozenset[str]) -> re.Pattern:
    """Any of ``garbles`` as a whole word (a split one, "ONU DC", across any whitespace); the
    garble of a match is ``" ".join(match.group().split())``."""
    ordered = sorted(garbles, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(r"\s+".join(map(re.escape, g.split())) for g in ordered) + r")\b")


def fold(text: str) -> str:
    """Lower case without accents (for lexical matching): "États" -> "etats"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe")


def footnote_markers(markdown: str) -> list[int]:
    # A "marker" of 10 digits or more is no footnote's (and int() refuses past 4,300 digits).
    return [int(n) for n in _SUP.findall(markdown) if len(n) <= 9]


# A sentence ends at . ! ? or ; followed by a space and an upper-case letter, a digit or a
# quote. Abbreviations of this report that end with a period ("M.", "art.") are rare enough.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[«\"A-ZÀ-ÖØ-Ý0-9])")


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences; joining them with spaces gives the text back."""
    return [s for s in _SENTENCE_END.split(text) if s]


# "338 196" and "1 000" are one number; "2019 150" is two (a group of 4 digits cannot lead).
NUMBER = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?")


def numbers(text: str) -> list[str]:
    """Numbers as written ("338 196", "20,8", "2019"), normalised to digits with "." decimals."""
    return [normalise_number(n) for n in NUMBER.findall(text)]


def normalise_number(raw: str) -> str:
    """ "338 196" -> "338196"; "20,8" -> "20.8"; "1,94" -> "1.94"; "1,000" (English) -> "1000"."""
    s = re.sub(r"[ \u00a0\u202f]", "", raw)
    if re.fullmatch(r"\d{1,3}(,\d{3})+", s):  # English thousands separators
        return s.replace(",", "")
    return s.replace(",", ".")


def any_of(words) -> str:
    """A regex alternation of ``words``, longest first (so "UN-Habitat" wins over "UN")."""
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_EN_WORDS = frozenset("""the what how which who whom where when why does did do is are was were has have
of and to in on for with by about from many much report say says any this that there their its it
an a be been say tell give""".split())
_FR_WORDS = frozenset("""le la les des du de quel quelle quels quelles combien où quand qui est sont
ont que qu dans pour sur par et au aux une un rapport ce cette ces il elle ils se sa son ses leur
leurs été fait dit""".split())


def detect_language(question: str) -> str:
    """ "fr" or "en", from function words and accents; French when unsure (the report's language)."""
    words = re.findall(r"[a-zàâçéèêëîïôûùüÿœ']+", question.lower())
    en = sum(w in _EN_WORDS for w in words)
    fr = sum(w in _FR_WORDS for w in words) + len(re.findall(r"[àâçéèêëîïôûùüÿœ]", question.lower()))
    return "en" if en > fr else "fr"


def _french_cardinals() -> dict[int, str]:
    units = ("zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize "
             "dix-sept dix-huit dix-neuf").split()
    names = dict(enumerate(units))
    tens = {20: "vingt", 30: "trente", 40: "quarante", 50: "cinquante", 60: "soixante", 80: "quatre-vingt"}
    for n in range(20, 100):
        base = n - n % 10 if n < 70 or 80 <= n < 90 else n - n % 20  # 70s and 90s count on from 60, 80
        rest = n - base
        if rest == 0:
            names[n] = tens[base]
        elif rest in (1, 11) and base < 80:
            names[n] = f"{tens[base]}-et-{units[rest]}"
        else:
            names[n] = f"{tens[base]}-{units[rest]}"
    return names


def _english_cardinals() -> dict[int, str]:
    units = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
             "sixteen seventeen eighteen nineteen").split()
    tens = "twenty thirty forty fifty sixty seventy eighty ninety".split()
    names = dict(enumerate(units))
    for n in range(20, 100):
        names[n] = tens[n // 10 - 2] + (f"-{units[n % 10]}" if n % 10 else "")
    return names


def _ordinal_words() -> dict[str, int]:
    """Ordinal words of both languages, 1 to 99 ("quatorzième", "twenty-ninth") -> number."""
    words: dict[str, int] = {"premier": 1, "première": 1, "first": 1, "second": 2, "seconde": 2}
    for n, name in _french_cardinals().items():
        if n == 0:
            continue
        stem = name[:-1] if name.endswith("e") else name  # quatre -> quatrième
        if stem.endswith("neuf"):
            stem = stem[:-1] + "v"  # neuvième
        elif stem.endswith("cinq"):
            stem += "u"  # cinquième
        words.setdefault(f"{stem}ième", n)
    english_irregular = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                         "nine": "ninth", "twelve": "twelfth"}
    for n, name in _english_cardinals().items():
        if n == 0:
            continue
        head, _, last = name.rpartition("-")
        if last in english_irregular:
            ordinal = english_irregular[last]
        elif last.endswith("y"):
            ordinal = last[:-1] + "ieth"
        else:
            ordinal = last + "th"
        words.setdefault(f"{head}-{ordinal}" if head else ordinal, n)
    return words


_ORDINAL_WORDS = _ordinal_words()
_ORDINAL_WORD = re.compile(rf"(?<![\w-])({any_of(_ORDINAL_WORDS)})(?![\w-])")
_ORDINAL_DIGITS = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|e|ème|eme|er|re)\b")


def ordinals(text: str) -> set[int]:
    """The ordinals of a text as numbers: "quatorzième" and "14th" -> 14, "vingt-neuvième" -> 29."""
    lowered = re.sub(r"\b(vingt|trente|quarante|cinquante|soixante) et (un|onz)", r"\1-et-\2",
                     text.lower().replace("’", "'"))
    lowered = re.sub(r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety) (?=[a-z]+(?:st|nd|rd|th)\b)",
                     r"\1-", lowered)
    return ({int(m.group(1)) for m in _ORDINAL_DIGITS.finditer(lowered)}
            | {_ORDINAL_WORDS[m.group(1)] for m in _ORDINAL_WORD.finditer(lowered)})

"""A document's acronyms and the OCR garbles of them, read from the document itself.

A scanned report may print its own acronym several ways: the seed writes ONUDC 39 times, but also
ONUDDC (22), "ONU DC" (15), ONUSUDC (7), ONUSD (6) and ONUSUD (5). Search must see one spelling
(a question saying ONUDC, or UNODC through ``search.lexical.ACRONYMS_EN_FR``, must find the
paragraphs that print a garble), while quotes keep what is printed. ``acronym_variants`` finds
the garbles of any document from its own text at ingest; the parsers keep the result on
``Report.acronym_variants`` and put the acronym in place of each garble in the search text only.

The rules, and why:

- **An acronym** is an all-capital word of at least ``MIN_LENGTH`` letters written at least
  ``MIN_COUNT`` times, not a Roman numeral (VII, VIII are numbers: section and annex labels),
  and not itself a garble of a more frequent one. Three, because a word written once or twice
  gives no spelling to prefer; the seed's ONUDC is its most written all-capital word.
- **A garble** of an acronym is written less often than it (its own count need not be small: the
  seed prints ONUDDC 22 times against ONUDC's 39), is never spelled out by the document (a word
  standing alone in parentheses, "Mission in Libya (UNSMIL)", is an acronym the document
  defines, hence one of its own), starts with the acronym's first two letters and
  - holds all the acronym's letters in order with one or two letters inserted between them, a
    doubled letter included, and nothing after its last one (ONUSUDC, ONUDDC); or
  - is two all-capital words side by side that join into the acronym or such a garble ("ONU DC").
- **A lost letter** (ONUSUD: ONUDC's C lost, SU inserted) is how two real acronyms differ as
  often as a garble (UNHCR/UNHRC; ESCAP/ESCWA, both in two of the ten sample reports), so a word
  that holds all but one of the acronym's letters is a garble only when the document shows that
  garbling: it is a garble found above, or found this way, with one letter dropped (ONUSUD is
  ONUSUDC without its C, ONUSD is ONUSUD without its second U). The lost letter may not be
  replaced where it stood (MINUSMA/MINUSCA differ in one letter: two missions), and the word is
  no shorter than the acronym (UNDPO/UNDP: a shorter word is another acronym).

What the rules refuse, by design: letters after the acronym's last (UNDP/UNDPO, UNMIS/UNMISS,
UNSMIL/UNSMIS, ONUDC/ONUSIDA: a suffix or a different ending makes another body's name); any
letter inserted or lost in an acronym of fewer than five letters (UNCT/UNOCT, both in the report
on Somalia; DPA/DPPA: short codes are dense, a near spelling is another code). Still possible: an
acronym with letters inserted inside that is another body's and is not spelled out in the document
(UNHCR/UNHCHR).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from ..records import Heading, Paragraph, Part, Report
from ..text import search_text

#: An acronym is written at least this often…
MIN_COUNT = 3
#: …and has at least this many letters.
MIN_LENGTH = 3
#: Only an acronym of this many letters or more is garbled by letters inserted or lost: shorter
#: codes are dense, a near spelling is another code (UNCT/UNOCT in S/2025/194, DPA/DPPA).
GARBLED_MIN_LENGTH = 5
#: Letters a garble may insert among the acronym's.
MAX_INSERTED = 2
#: An acronym in at least this share of a document's paragraphs is the body it is about (the
#: seed's ONUDC stands in 0.73 of them; no acronym of the ten sample reports in more than 0.32,
#: UNTMIS in the report on Somalia).
COMMON_SHARE = 0.5

_WORD = re.compile(r"\w+")
_DEFINED = re.compile(r"\(\s*(\w+)\s*\)")
_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
# What may separate the two halves of a split acronym: one space, as OCR leaves it.
_SPLIT = (" ", "\u00a0")


def _capital(word: str) -> bool:
    return len(word) >= 2 and word.isalpha() and word.isupper()


def _spelled_in(letters: str, word: str) -> list[int] | None:
    """Where ``letters`` stand in ``word``, each as early as it can; None when they do not all."""
    positions, start = [], 0
    for letter in letters:
        found = word.find(letter, start)
        if found < 0:
            return None
        positions.append(found)
        start = found + 1
    return positions


def inserted_garble(word: str, acronym: str) -> bool:
    """``word`` is ``acronym`` (of ``GARBLED_MIN_LENGTH`` letters or more) with one or two letters
    inserted among its letters and nothing after its last: ONUSUDC, ONUDDC for ONUDC; not UNODCO."""
    extra = len(word) - len(acronym)
    if len(acronym) < GARBLED_MIN_LENGTH or not 0 < extra <= MAX_INSERTED or word[:2] != acronym[:2]:
        return False
    positions = _spelled_in(acronym, word)
    return positions is not None and positions[-1] == len(word) - 1


def lost_letter_garble(word: str, acronym: str) -> bool:
    """``word`` holds all of ``acronym``'s letters but one (never one of the first two), in order,
    with one or two letters inserted, no shorter than it, nothing after its last kept letter, and
    the lost letter not replaced where it stood: ONUSD, ONUSUD for ONUDC; not MINUSCA for MINUSMA."""
    if len(acronym) < GARBLED_MIN_LENGTH or word[:2] != acronym[:2]:
        return False
    if not len(acronym) <= len(word) <= len(acronym) + MAX_INSERTED - 1:  # one lost, at most two inserted
        return False
    for lost in range(2, len(acronym)):
        kept = acronym[:lost] + acronym[lost + 1:]
        positions = _spelled_in(kept, word)
        if positions is None or positions[-1] != len(word) - 1:
            continue
        if lost < len(acronym) - 1 and positions[lost] - positions[lost - 1] > 1:
            continue  # a letter stands where the lost one stood: a different letter, not a garble
        return True
    return False


def _dropped_one(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(2, len(word))}


def acronym_variants(texts: Iterable[str]) -> dict[str, str]:
    """The garbles of a document's acronyms, as printed ("ONU DC", "ONUDDC"), each with its
    acronym ("ONUDC"), from the document's ``texts`` (all of its words, each text once)."""
    words: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    defined: set[str] = set()
    for text in texts:
        previous = None
        for m in _WORD.finditer(text):
            word = m.group()
            if not _capital(word):
                previous = None
                continue
            words[word] += 1
            if previous is not None and text[previous.end():m.start()] in _SPLIT:
                pairs[f"{previous.group()} {word}"] += 1
            previous = m
        defined.update(d for d in _DEFINED.findall(text) if _capital(d))

    variants: dict[str, str] = {}
    acronyms = [w for w, n in sorted(words.items(), key=lambda item: (-item[1], item[0]))
                if n >= MIN_COUNT and len(w) >= MIN_LENGTH and not _ROMAN.fullmatch(w)]
    for acronym in acronyms:  # the most written first: a garble goes to the acronym it is most like
        if acronym in variants:  # itself a garble of a more frequent acronym
            continue

        def free(word: str, acronym: str = acronym) -> bool:
            return word not in variants and word not in defined and words[word] < words[acronym]

        for word in words:
            if free(word) and inserted_garble(word, acronym):
                variants[word] = acronym
        for pair, n in pairs.items():
            joined = pair.replace(" ", "")
            if pair not in variants and n < words[acronym] and (joined == acronym or inserted_garble(joined, acronym)):
                variants[pair] = acronym
        # A lost letter: a garble already found with one letter dropped, until none is new.
        found = [w for w, a in variants.items() if a == acronym and " " not in w]
        while found:
            found = [word for garble in found for word in sorted(_dropped_one(garble) & words.keys())
                     if free(word) and lost_letter_garble(word, acronym)]
            variants.update(dict.fromkeys(found, acronym))
    # An acronym found a garble of another after its own garbles were read: they are the other's.
    for garble, acronym in variants.items():
        while acronym in variants:
            acronym = variants[acronym]
        variants[garble] = acronym
    return dict(sorted(variants.items()))


def report_texts(report: Report) -> list[str]:
    """Every text of a report that its words are counted in (what is shown, searched or quoted)."""
    texts = [report.title, report.summary, *report.front_matter, *(h.title for h in report.headings),
             *(p.text for p in report.paragraphs), *report.footnotes.values()]
    for part in report.parts:
        texts += [part.title, *(h.title for h in part.headings), *(p.text for p in part.paragraphs),
                  *part.footnotes.values()]
    return texts


def common_acronyms(paragraphs: list[str]) -> tuple[str, ...]:
    """The acronyms standing in at least ``COMMON_SHARE`` of ``paragraphs`` (search texts: garbles
    written as their acronym), most frequent first."""
    if not paragraphs:
        return ()
    held: Counter[str] = Counter()
    for text in paragraphs:
        held.update({w for w in _WORD.findall(text)
                     if _capital(w) and len(w) >= MIN_LENGTH and not _ROMAN.fullmatch(w)})
    return tuple(w for w, n in sorted(held.items(), key=lambda item: (-item[1], item[0]))
                 if n >= COMMON_SHARE * len(paragraphs))


def with_acronyms(report: Report) -> Report:
    """``report`` with its ``acronym_variants`` and ``common_acronyms`` read from its own text, and
    its paragraphs' and headings' search texts written with the variants' acronyms."""
    variants = acronym_variants(report_texts(report))

    def paragraph(p: Paragraph) -> Paragraph:
        return replace(p, search_text=search_text(p.text, variants))

    def heading(h: Heading) -> Heading:
        return replace(h, search_text=search_text(h.title, variants))

    def part(x: Part) -> Part:
        return replace(x, headings=[heading(h) for h in x.headings], paragraphs=[paragraph(p) for p in x.paragraphs])

    if variants:
        report = replace(report, paragraphs=[paragraph(p) for p in report.paragraphs],
                         headings=[heading(h) for h in report.headings], parts=[part(x) for x in report.parts])
    return replace(report, acronym_variants=variants,
                   common_acronyms=common_acronyms([p.search_text for p in report.paragraphs]))

"""Citations as answers write them: the mark after a quote or a generated sentence, and the
citations an answer carries as data.

Shared by the extractive composer (``answering``) and the generative mode's verifier
(``generate``), which both write marks, and by the eval and the fuzz, which read them.
"""

from __future__ import annotations

import re

from ..records import Citation, Quote

# A citation mark as answers write it: "(§12)", "(S/2025/303 §12)", "(§12, §55)" (a generated
# sentence may cite several); a document id is letters, digits and ./- without spaces.
CITATION_MARK = re.compile(r"\((?:[A-Za-z][\w./-]*\s)?§\s?\d{1,4}(?:\s*,\s*(?:[A-Za-z][\w./-]*\s)?§\s?\d{1,4})*\)")
# A paragraph named outside a mark: a section's answer says where it runs ("couvre les paragraphes
# §76 à §82"), which is where to read, not a figure the report states.
PARAGRAPH_REFERENCE = re.compile(r"§\s?\d{1,4}")

def citation_mark(citations: list[Citation], single_document: str | None) -> str:
    """ "(§12)" (one document searched), "(S/2025/303 §12)", "(§12, §55)"."""
    return "(" + ", ".join(f"§{c.paragraph}" if single_document else c.label for c in citations) + ")"


def citations_of(quotes: list[Quote]) -> list[Citation]:
    """The quoted paragraphs, in order of first appearance, no duplicates."""
    return list(dict.fromkeys(q.citation for q in quotes))


def numbers_outside_citations(text: str) -> str:
    """The answer without its citation marks ("(§12)", "(S/2025/303 §12)") and the paragraphs it
    names ("§76 à §82"), for checking the numbers it states."""
    return PARAGRAPH_REFERENCE.sub(" ", CITATION_MARK.sub(" ", text))

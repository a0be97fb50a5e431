"""A question that names a paragraph or a section the report does not have ("§200", "§-1",
"paragraph 117", "section IX.Z", "part G of section IV") is told so, instead of being answered
from whatever lies closest in meaning: "Que dit le §-1 ?" used to quote §23 and §38.

It reads the question with ``search/retrieval.py``'s ``named_paragraphs`` and ``named_section``,
as ``structural_reference`` does (which keeps the parts that exist), so what is not in the
report is noticed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..records import Unit
from ..search.retrieval import named_paragraphs, named_section


@dataclass(frozen=True)
class MissingPart:
    kind: str  # "paragraph" or "section"
    label: str  # "200", "-1", "IX.Z"


def missing_part(question: str, units: Iterable[Unit]) -> MissingPart | None:
    """The first paragraph or section ``question`` names that none of ``units`` is, if any."""
    units = list(units)
    numbers = {u.paragraph for u in units if u.kind == "paragraph"}
    for written in named_paragraphs(question):
        # Past 9 digits it is no paragraph of any report (and int() of thousands of digits raises).
        number = int(written) if len(written) <= 10 else None
        if number not in numbers:
            return MissingPart("paragraph", str(number) if number is not None else written)
    labels = {u.heading_label for u in units if u.kind == "heading"}
    label = named_section(question)
    if label is None:
        return None
    if label in labels:
        return None
    # A letter alone ("partie C": C is also a Roman numeral) names a part of some section.
    if len(label) == 1 and any(known.endswith(f".{label}") for known in labels):
        return None
    return MissingPart("section", label)


def missing_text(part: MissingPart, units: Iterable[Unit], language: str) -> str:
    """What the answer says: the part named does not exist, and what does."""
    units = list(units)
    numbers = sorted(u.paragraph for u in units if u.kind == "paragraph")
    if part.kind == "paragraph":
        first, last = numbers[0], numbers[-1]
        if language == "en":
            return f"The report has no paragraph {part.label}: its paragraphs run from {first} to {last}."
        return f"Le rapport n'a pas de paragraphe {part.label} : ses paragraphes vont de {first} à {last}."
    labels = [u.heading_label for u in units if u.kind == "heading"]
    parent = part.label.rpartition(".")[0]
    children = [x for x in labels if x.rpartition(".")[0] == parent and x.count(".") == part.label.count(".")]
    if parent in labels and children:
        if language == "en":
            return (f"The report has no section {part.label}: section {parent} has the parts "
                    f"{children[0]} to {children[-1]}.")
        return (f"Le rapport n'a pas de section {part.label} : la section {parent} a les parties "
                f"{children[0]} à {children[-1]}.")
    top = [x for x in labels if "." not in x]
    if language == "en":
        return f"The report has no section {part.label}: its sections run from {top[0]} to {top[-1]}."
    return f"Le rapport n'a pas de section {part.label} : ses sections vont de {top[0]} à {top[-1]}."

"""The typed records that flow from the parser to the screen, unchanged.

``Paragraph``/``Heading``/``Part``/``Report`` come out of the parsers (``ingest/markdown.py`` for
the markdown seed, ``ingest/pdf.py`` for PDFs), ``Unit`` is what the index holds,
``Passage`` is what retrieval returns, ``Citation`` names a cited paragraph of a document and
``Answer`` is what ``answer()`` returns.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Literal

UnitKind = Literal["paragraph", "heading", "summary"]
#: Separates a unit's document from its id within the document: "S/2025/303#p12".
UNIT_SEPARATOR = "#"
# The UN's six languages, as a file-name suffix ("report.fr.md"): not part of a document's name.
_LANGUAGE_SUFFIX = re.compile(r"[._-](?:ar|zh|en|fr|ru|es)$", re.IGNORECASE)
_SLUG_JUNK = re.compile(r"[^a-z0-9.]+")


@dataclass(frozen=True)
class Paragraph:
    """One numbered paragraph of the report, whole even where a page break split it."""

    number: int
    #: The display text, as in the report (markdown links reduced to their label, footnote
    #: markers shown as superscript digits).
    text: str
    #: The heading path, outermost first, e.g. ("IV. Mesures prises…", "A. Renforcement…", "1. …").
    section: tuple[str, ...]
    #: Footnotes whose marker stands in this paragraph's text.
    footnotes: list[str] = field(default_factory=list)
    #: Normalised text for search: markup removed, the document's OCR garbles of its acronyms
    #: (``Report.acronym_variants``) written as the acronym.
    search_text: str = ""
    #: 1-based line numbers of the source file that the paragraph was read from.
    lines: tuple[int, ...] = ()
    #: 1-based pages of a PDF that the paragraph was read from (empty for a text source).
    pages: tuple[int, ...] = ()

    @property
    def split_by_page_break(self) -> bool:
        return len(self.lines) > 1 or len(self.pages) > 1


@dataclass(frozen=True)
class Heading:
    """A section heading, e.g. label "IV.A", title "A. Renforcement de la coopération…"."""

    label: str
    title: str
    level: int
    #: The heading path including this heading itself.
    section: tuple[str, ...]
    #: Numbers of the paragraphs under this heading (its subsections included).
    paragraphs: tuple[int, ...] = ()
    search_text: str = ""


@dataclass(frozen=True)
class Part:
    """A text the report carries with a numbering of its own, kept apart from the report's
    paragraphs §1..N: an annex, or a resolution, decision, figure or table it reproduces.

    Its ``paragraphs`` keep their printed numbers (a resolution's operative paragraphs 1, 2…);
    an unnumbered block (a preamble, a table row, a list) has number 0.
    """

    #: "annex" (an Annex/Appendix after the report's paragraphs), "figure" (a figure, map, table
    #: or box: its caption and the words printed in it) or "text" (a resolution, decision… the
    #: report reproduces).
    kind: str
    #: Its label ("Annex", "Resolution 68/1", "Figure I") or, unlabelled, its heading.
    label: str
    #: Its heading lines joined.
    title: str
    #: The report's heading path where it stands.
    section: tuple[str, ...]
    #: The report paragraph it follows.
    after: int | None
    headings: list[Heading] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)
    #: Footnote number -> text, for the footnotes marked inside it (annexes restart at 1).
    footnotes: dict[int, str] = field(default_factory=dict)
    pages: tuple[int, ...] = ()


@dataclass(frozen=True)
class Report:
    title: str
    date: str
    session: str
    agenda_item: str
    #: The UN document symbol when the text gives it; this copy does not.
    symbol: str | None
    summary: str
    #: Front-matter lines other than the summary (distribution, languages, titles, notes).
    front_matter: list[str]
    headings: list[Heading]
    paragraphs: list[Paragraph]
    #: Footnote number -> text (the report's two footnotes).
    footnotes: dict[int, str]
    #: sha256 of the source file.
    sha256: str = ""
    #: "en" or "fr", from the paragraphs' function words ("" when unknown; the markdown parser
    #: does not set it).
    language: str = ""
    #: Every symbol of a document issued under several ("A/80/75", "E/2025/55"); ``symbol`` is the first.
    symbols: tuple[str, ...] = ()
    #: Texts the report carries with their own numbering (annexes, resolutions, figures).
    parts: list[Part] = field(default_factory=list)
    #: The file the report was read from (its name).
    source: str = ""
    #: Lines dropped as page furniture (running heads, page and job numbers, barcodes), as printed.
    page_furniture: list[str] = field(default_factory=list)
    #: OCR garbles of the document's acronyms, as printed, each with its acronym ("ONU DC" ->
    #: "ONUDC"): read from the document's own text (``ingest.acronyms``), written as the acronym
    #: in the search texts, never in what is shown or quoted.
    acronym_variants: dict[str, str] = field(default_factory=dict)
    #: Acronyms standing in at least half of the paragraphs (the seed's ONUDC): the body the
    #: document is about, which says nothing of what a question on it asks (``ingest.acronyms``).
    common_acronyms: tuple[str, ...] = ()

    def paragraph(self, number: int) -> Paragraph:
        """The paragraph with this number; ``KeyError`` if there is none."""
        for p in self.paragraphs:
            if p.number == number:
                return p
        raise KeyError(f"{self.doc_id} has no paragraph {number}")

    @property
    def doc_id(self) -> str:
        """The document's stable name in a library: its symbol ("S/2025/303"), or for a text that
        carries none a slug of its file's name without the language suffix
        ("unodc-crime-prevention-report-2020.fr.md" -> "unodc-crime-prevention-report-2020"), or
        of its title when it was not read from a file."""
        if self.symbol:
            return self.symbol
        stem = self.source.rsplit(".", 1)[0] if "." in self.source else self.source
        return slug(stem) or slug(self.title) or "report"


def slug(text: str) -> str:
    """Lower-case letters, digits and dots joined by hyphens, at most 80 characters, without a
    trailing language suffix ("Report.FR" -> "report")."""
    text = _LANGUAGE_SUFFIX.sub("", text.strip())
    return _SLUG_JUNK.sub("-", text.lower()).strip("-.")[:80].strip("-.")


def report_to_dict(report: Report) -> dict:
    """The report as JSON-ready values (``report_from_dict`` reads it back, equal)."""
    return asdict(report)


def report_from_dict(data: dict) -> Report:
    """The inverse of ``report_to_dict``: tuples and integer keys restored."""
    def paragraph(d: dict) -> Paragraph:
        return Paragraph(**{**d, "section": tuple(d["section"]), "lines": tuple(d["lines"]),
                            "pages": tuple(d["pages"])})

    def heading(d: dict) -> Heading:
        return Heading(**{**d, "section": tuple(d["section"]), "paragraphs": tuple(d["paragraphs"])})

    def part(d: dict) -> Part:
        return Part(**{**d, "section": tuple(d["section"]), "headings": [heading(h) for h in d["headings"]],
                       "paragraphs": [paragraph(p) for p in d["paragraphs"]],
                       "footnotes": {int(k): v for k, v in d["footnotes"].items()}, "pages": tuple(d["pages"])})

    known = {f.name for f in fields(Report)}
    return Report(**{**{k: v for k, v in data.items() if k in known},
                     "headings": [heading(h) for h in data["headings"]],
                     "paragraphs": [paragraph(p) for p in data["paragraphs"]],
                     "footnotes": {int(k): v for k, v in data["footnotes"].items()},
                     "symbols": tuple(data.get("symbols", ())), "parts": [part(p) for p in data.get("parts", [])],
                     "common_acronyms": tuple(data.get("common_acronyms", ()))})


@dataclass(frozen=True, order=True)
class Citation:
    """A cited paragraph: the document (its ``Report.doc_id``) and the paragraph's number."""

    document: str
    paragraph: int

    @property
    def label(self) -> str:
        """ "S/2025/303 §12" """
        return f"{self.document} §{self.paragraph}"

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Unit:
    """A retrievable unit: a paragraph, a section heading, or the summary."""

    id: str  # "S/2025/303#p20", "S/2025/303#h:IV.A", "S/2025/303#summary"
    kind: UnitKind
    paragraph: int | None
    section: tuple[str, ...]
    text: str
    #: What the lexical index reads.
    search_text: str
    #: What the embedding model reads: the text with its section path as context.
    embed_text: str
    #: The document it belongs to (``Report.doc_id``).
    document: str = ""

    @property
    def local_id(self) -> str:
        """Its id within its document: "p20", "h:IV.A", "summary"."""
        return self.id.rpartition(UNIT_SEPARATOR)[2]

    @property
    def heading_label(self) -> str | None:
        """A heading unit's label ("IV.A"); None for other units."""
        return self.local_id[2:] if self.kind == "heading" else None


def unit_id(document: str, local: str) -> str:
    """ "S/2025/303", "p12" -> "S/2025/303#p12" """
    return f"{document}{UNIT_SEPARATOR}{local}"


@dataclass(frozen=True)
class Passage:
    """A unit found by retrieval, with how well and how it was found."""

    paragraph: int | None  # None for a heading or the summary
    section: tuple[str, ...]
    text: str
    score: float
    kind: UnitKind = "paragraph"
    unit_id: str = ""
    #: "hybrid", "dense", "lexical" or "direct" (the question named the paragraph or section).
    found_by: str = "hybrid"
    #: The document it belongs to (``Report.doc_id``).
    document: str = ""

    @property
    def label(self) -> str:
        if self.paragraph is not None:
            return f"§{self.paragraph}"
        return self.section[-1] if self.section else "Résumé"

    @property
    def citation(self) -> Citation | None:
        """The citation of a paragraph passage (None for a heading or the summary)."""
        return Citation(self.document, self.paragraph) if self.paragraph is not None else None


@dataclass(frozen=True)
class Quote:
    """A sentence of a report quoted in an answer."""

    paragraph: int
    sentence: str
    #: The document it is quoted from (``Report.doc_id``).
    document: str = ""

    @property
    def citation(self) -> Citation:
        return Citation(self.document, self.paragraph)


@dataclass
class Answer:
    """What ``answer()`` returns."""

    question: str
    #: The answer with inline citations: "(§20)" when one document is searched, else
    #: "(S/2025/303 §20)".
    text: str
    #: The cited paragraphs, each with its document, in order of first appearance, without
    #: duplicates: built from what the answer quotes, never read back from ``text``.
    citations: list[Citation]
    #: What retrieval returned, best first.
    passages: list[Passage]
    #: True when the report does not answer the question.
    abstained: bool
    #: "fr" or "en": the question's language, which the answer's wording follows.
    language: str = "fr"
    #: "extractive", "generative", "direct" (a paragraph asked for by number) or "refused".
    mode: str = "extractive"
    #: The report's sentences the answer quotes (for highlighting).
    quotes: list[Quote] = field(default_factory=list)
    #: Seconds spent per step ("retrieve", "compose", "total").
    timings: dict[str, float] = field(default_factory=dict)
    #: Notes from the verification of a generated answer (dropped citations, removed sentences).
    warnings: list[str] = field(default_factory=list)
    #: The question as retrieval saw it, when a follow-up was rewritten using the conversation.
    standalone_question: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

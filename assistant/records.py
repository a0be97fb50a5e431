"""The typed records that flow from the parser to the screen, unchanged.

``Paragraph``/``Heading``/``Part``/``Report`` come out of the parsers (``report.py`` for the
markdown seed, ``ingest/`` for PDFs), ``Unit`` is what the index holds,
``Passage`` is what retrieval returns and ``Answer`` is what ``answer()`` returns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

UnitKind = Literal["paragraph", "heading", "summary"]


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
    #: Normalised text for search: acronym variants unified, markup removed.
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

    def paragraph(self, number: int) -> Paragraph:
        """The paragraph with this number; ``KeyError`` if there is none."""
        for p in self.paragraphs:
            if p.number == number:
                return p
        raise KeyError(f"the report has no paragraph {number}")


@dataclass(frozen=True)
class Unit:
    """A retrievable unit: a paragraph, a section heading, or the summary."""

    id: str  # "p20", "h:IV.A", "summary"
    kind: UnitKind
    paragraph: int | None
    section: tuple[str, ...]
    text: str
    #: What the lexical index reads.
    search_text: str
    #: What the embedding model reads: the text with its section path as context.
    embed_text: str


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

    @property
    def label(self) -> str:
        if self.paragraph is not None:
            return f"§{self.paragraph}"
        return self.section[-1] if self.section else "Résumé"


@dataclass(frozen=True)
class Quote:
    """A sentence of the report quoted in an answer."""

    paragraph: int
    sentence: str


@dataclass
class Answer:
    """What ``answer()`` returns."""

    question: str
    #: The answer with inline citations such as "(§20)" or "(§20, §55)".
    text: str
    #: Cited paragraph numbers, in order of first appearance, without duplicates.
    citations: list[int]
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

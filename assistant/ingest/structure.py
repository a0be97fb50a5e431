"""From a PDF's positioned lines to the report's structure: page furniture dropped, footnotes
read from page bottoms, headings with their levels, numbered paragraphs, and the texts a report
carries with numbering of their own (annexes, resolutions, figures).

Every rule reads typography and UN editorial conventions, never a particular document:

- **Page furniture**: a line near the top or bottom edge of a page made only of document
  symbols, a page number ("3/17", "12", "iv"), a job number ("25-05432 (E) 190525",
  "GE.25-00925") or a barcode ("*2505432*" or a barcode font). The first page's top is the
  cover, never furniture. Dropped lines are kept in ``Report.page_furniture``.
- **Footnotes**: the lines under the footnote rule ("_____") at a page's bottom or, with no
  rule, the run of smaller lines at the bottom from the first that starts with a superscript
  number. A line starting with a superscript number starts footnote N; others continue the last
  one (across pages too). A footnote belongs to the unit whose text carries its marker on the
  page it is printed on.
- **Numbered paragraph**: "N." at the body's left margin, in body-size type, followed by a tab
  to the first-line indent. The report's paragraphs are those numbered 1, 2, 3… in order; a
  number that skips one or two raises ``PdfParseError``.
- **Heading**: a bold or italic line (or a few close together in the same type) at or left of
  the margin, set off by more space than a paragraph above and below, starting like a title;
  or a short plain line set off the same way right before a numbered paragraph (an underlined
  heading). Its rank comes from its size, then bold over italic over plain, then its label
  (Chapter I, I., A., 1., 1.1, (a), none), so a stack gives each paragraph its section path.
  A label alone ("Chapter II", "Resolution 68/1", "Figure I") takes the heading after it;
  "I." after "H." is the letter I, and a letter without its period counts when it is the next.
- **Parts** (``records.Part``), kept apart from the paragraphs §1..N:
  - an "Annex"/"Appendix"/"Enclosure" heading after the first paragraph starts an annex that
    runs to the next one or the end: the report's paragraphs end there;
  - a "Figure/Table/Map/Box/Chart/Graph N" heading starts a figure part (its caption and the
    words printed in it) that ends at the next numbered paragraph or heading of its rank;
    body text running on in lower case after it goes back to the paragraph it interrupted;
  - headings followed by unnumbered text start a part (a draft decision, a resolution the
    report reproduces) running until a heading of the same or a higher rank or the report's
    next paragraph. Inside a part, "N." items keep their own numbers (1, 2… again) and other
    text is split into blocks numbered 0.
- **Line ends**: lines are joined with a space; a word broken by a hyphen at a line end is
  joined without it only when the document's own words say so (``_Vocabulary``).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field, replace

from ..records import Heading, Paragraph, Part, Report
from ..text import search_text
from .acronyms import with_acronyms
from .cover import read_cover
from .language import detect_language
from .layout import PLAIN_DIGITS, Line, Page
from .markdown import ReportParseError

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_MARKERS = re.compile(f"[{_SUPERSCRIPTS}]+")


class PdfParseError(ReportParseError):
    """A PDF the parser cannot read as a report; ``page`` is 1-based (0: the whole file)."""

    def __init__(self, page: int, message: str, content: str = "", source: str = ""):
        self.page = page
        self.line = 0  # a PDF has pages, not source lines
        where = ", ".join(([source] if source else []) + ([f"page {page}"] if page else []))
        shown = f": {content[:80]!r}" if content else ""
        ValueError.__init__(self, f"{where}: {message}{shown}" if where else f"{message}{shown}")


# --- document measures ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Measures:
    body_size: float  # the font size of most text
    margin: float  # the left edge of body text
    leading: float  # baseline to baseline inside a paragraph
    indent: float  # where text starts after a paragraph's number, from the margin

    @property
    def space(self) -> float:
        """More than this between two baselines is a paragraph or heading break."""
        return 1.25 * self.leading


def _measure(pages: list[Page]) -> _Measures:
    sizes: Counter = Counter()
    for page in pages:
        for line in page.lines:
            sizes[line.size] += len(line.text)
    body = sizes.most_common(1)[0][0]
    plain = [ln for p in pages for ln in p.lines if _is_body_size(ln, body) and not ln.bold]
    mode = Counter(round(ln.x0) for ln in plain).most_common(1)[0][0] if plain else 0
    near = sorted(ln.x0 for ln in plain if abs(ln.x0 - mode) <= 2)
    margin = near[len(near) // 2] if near else float(mode)
    gaps: Counter = Counter()
    for page in pages:
        body_lines = [ln for ln in page.lines if _is_body_size(ln, body)]
        for a, b in zip(body_lines, body_lines[1:], strict=False):
            if 0.8 * body < a.y - b.y < 2 * body:
                gaps[round(a.y - b.y, 1)] += 1
    leading = gaps.most_common(1)[0][0] if gaps else 1.2 * body
    tabs = Counter(round(ln.words[1].x0 - margin) for ln in plain
                   if len(ln.words) > 1 and _NUMBER.fullmatch(ln.words[0].text) and abs(ln.x0 - margin) <= 3
                   and ln.words[1].x0 - ln.words[0].x1 > 0.5 * body)
    indent = tabs.most_common(1)[0][0] if tabs else 2.4 * body
    return _Measures(body, margin, leading, indent)


def _is_body_size(line: Line, body: float) -> bool:
    return abs(line.size - body) < 0.6


# --- page furniture and footnote zones ---------------------------------------------------------

_SYMBOL = r"[A-Z][A-Z0-9]*(?:\.\d+)?(?:/[A-Za-z0-9.]+)+\*?"
_FURNITURE_WORD = re.compile(
    rf"{_SYMBOL}(?:[-−–]{_SYMBOL})*"  # document symbols, joint ones too ("A/80/75-E/2025/55")
    r"|\d{1,3}/\d{1,3}|\d{1,3}|[ivxlc]{1,6}"  # page numbers
    r"|(?:[A-Z]{2}\.)?\d{2}-\d{5}|\([A-Z]\)|\d{6}"  # job number, language, date stamp
    r"|\*\d{5,}\*")  # barcode
_RULE = re.compile(r"_{5,}")
# Running heads sit above 0.91 of the page height and footers below 0.065, on Letter and A4
# alike; text and tables stop short of both.
_TOP_BAND, _BOTTOM_BAND = 0.91, 0.065


def _is_furniture(line: Line, page: Page) -> bool:
    at_top = line.y > _TOP_BAND * page.height and page.number > 1
    if not at_top and line.y >= _BOTTOM_BAND * page.height:
        return False
    if "barcode" in line.font.lower():
        return True
    return all(_FURNITURE_WORD.fullmatch(w.text.translate(PLAIN_DIGITS)) for w in line.words)


def _is_rule(line: Line) -> bool:
    return bool(_RULE.fullmatch(line.text.replace(" ", "")))


def _footnote_zone(lines: list[Line], m: _Measures) -> int:
    """Index of the first footnote line among a page's lines (furniture dropped); len(lines)
    when the page has none."""
    for i, line in enumerate(lines):
        if _is_rule(line):
            return i
    start = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].size > m.body_size - 0.6:
            break
        if lines[i].text[0] in _SUPERSCRIPTS:
            start = i
    return start


# --- blocks: what the walk reads -----------------------------------------------------------------


@dataclass
class _Block:
    """A heading (one or more lines), a numbered line, or a line of text."""

    kind: str  # "heading", "numbered", "text"
    lines: list[Line]
    number: int = 0  # "numbered": the paragraph number
    # "heading" only, set when the walk reads it:
    label_kind: str = ""  # chapter annex figure roman letter digit item none
    key: str = ""  # "IV", "A", "1", "Annex II", "Figure I", or the title for "none"
    rank: tuple = ()

    @property
    def text(self) -> str:
        return " ".join(ln.text for ln in self.lines)

    @property
    def page(self) -> int:
        return self.lines[0].page


_NUMBER = re.compile(r"(\d{1,3})\.")
# UN editorial labels, English and French: a line holding only one is a heading's label.
_CHAPTER_WORDS = r"Chapter|Chapitre"
_ANNEX_WORDS = r"Annexe|Annex|Appendix|Enclosure|Attachment|Appendice|Pièce jointe"
_FIGURE_WORDS = r"Figure|Table|Map|Box|Chart|Graph|Tableau|Carte|Encadré|Graphique"
_TEXT_WORDS = r"(?:Draft |Projet de )?(?:[Rr]esolution|[Dd]ecision|[Rr]ésolution|[Dd]écision)"
_LABEL_ONLY = re.compile(rf"(?:{_CHAPTER_WORDS}|{_ANNEX_WORDS}|{_FIGURE_WORDS}|{_TEXT_WORDS})"
                         r"(?:\s+[IVXLCDM\d]+(?:[./]\d+)*[A-Z]?)?[.:]?")


def _events(pages: list[Page], m: _Measures) -> tuple[list[_Block], list[list[Line]], list[str]]:
    """The content of every page as blocks, each page's footnote lines, and the furniture
    lines dropped (as printed)."""
    content: list[tuple[Line, float | None, float | None]] = []  # line, gap above, gap below
    notes: list[list[Line]] = []
    dropped: list[str] = []
    for page in pages:
        kept = []
        for line in page.lines:
            if _is_furniture(line, page):
                dropped.append(line.text)
            else:
                kept.append(line)
        zone = _footnote_zone(kept, m)
        body, foot = kept[:zone], kept[zone:]
        notes.append([ln for ln in foot if not _is_rule(ln)])
        dropped.extend(ln.text for ln in foot if _is_rule(ln))
        for i, line in enumerate(body):
            above = body[i - 1].y - line.y if i else None
            below = line.y - body[i + 1].y if i + 1 < len(body) else None
            content.append((line, above, below))
    return _blocks(content, m), notes, dropped


def _blocks(content, m: _Measures) -> list[_Block]:
    blocks: list[_Block] = []
    i = 0
    while i < len(content):
        line = content[i][0]
        if _is_numbered(line, m):
            number = int(_NUMBER.fullmatch(line.words[0].text).group(1))
            blocks.append(_Block("numbered", [line], number=number))
            i += 1
        elif (end := _styled_heading_end(content, i, m)) or (end := _label_heading_end(content, i, m)):
            blocks.append(_Block("heading", [c[0] for c in content[i:end]]))
            i = end
        else:
            blocks.append(_Block("heading" if _plain_heading(content, i, m) else "text", [line]))
            i += 1
    return _merge_labels(blocks)


def _styled_heading_end(content, i: int, m: _Measures) -> int:
    """The index after a bold or italic heading starting at ``i``, or 0 if none starts there."""
    line, above, _ = content[i]
    if not _heading_style(line, m) or (above is not None and above <= m.space):
        return 0
    end = i + 1  # a heading may run over a few lines of its type, close together
    while (end < len(content) and _same_style(content[end][0], line) and not _is_numbered(content[end][0], m)
           and content[end - 1][2] is not None and content[end - 1][2] <= 1.35 * line.size):
        end += 1
    below = content[end - 1][2]
    text = " ".join(c[0].text for c in content[i:end])
    # A heading starts like a title and does not run on like a clause: the lines of a bold
    # paragraph at a page top ("as to support…;") are no heading.
    if (below is not None and below <= m.space) or text[0].islower() or text[-1] in ",;":
        return 0
    return end


def _label_heading_end(content, i: int, m: _Measures) -> int:
    """A label in plain type ("Figure I", "Map 2") with the bold caption under it."""
    line = content[i][0]
    if not _LABEL_ONLY.fullmatch(line.text) or line.x0 > m.margin + 3:
        return 0
    end = i + 1
    while (end < len(content) and _heading_style(content[end][0], m) and content[end - 1][2] is not None
           and content[end - 1][2] <= 1.35 * content[end][0].size
           and (end == i + 1 or _same_style(content[end][0], content[end - 1][0]))):
        end += 1
    return end


def _plain_heading(content, i: int, m: _Measures) -> bool:
    """A heading in plain type (underlined, say: "E-government"): one short line at the margin,
    set off above and below, no closing punctuation, right before a numbered paragraph."""
    line, above, below = content[i]
    return (i + 1 < len(content) and _is_numbered(content[i + 1][0], m) and abs(line.x0 - m.margin) <= 3
            and _is_body_size(line, m.body_size) and (above is None or above > m.space)
            and (below is None or below > m.space) and len(line.words) <= 8 and line.text[0].isupper()
            and line.text[-1] not in ".,;:")


def _is_numbered(line: Line, m: _Measures) -> bool:
    if len(line.words) < 2 or not _NUMBER.fullmatch(line.words[0].text):
        return False
    return (abs(line.x0 - m.margin) <= 3 and _is_body_size(line, m.body_size)
            and abs(line.words[1].x0 - m.margin - m.indent) <= 3)


def _heading_style(line: Line, m: _Measures) -> bool:
    return (line.bold or line.italic) and line.size > m.body_size - 0.6 and line.x0 <= m.margin + 3


def _same_style(a: Line, b: Line) -> bool:
    return a.bold == b.bold and a.italic == b.italic and abs(a.size - b.size) < 0.6


def _merge_labels(blocks: list[_Block]) -> list[_Block]:
    """A heading that is only a label ("Chapter I", "Resolution 68/1") takes the heading after it."""
    out: list[_Block] = []
    for b in blocks:
        if (b.kind == "heading" and out and out[-1].kind == "heading" and _LABEL_ONLY.fullmatch(out[-1].text)
                and not _LABEL_ONLY.fullmatch(b.text)):
            out[-1] = _Block("heading", out[-1].lines + b.lines)
        else:
            out.append(b)
    return out


# --- heading labels and ranks -------------------------------------------------------------------

_ANNEX = re.compile(rf"(?:{_ANNEX_WORDS})\b(?:\s+(?:[IVXLC]+|\d+|[A-Z])\b)?")
_FIGURE = re.compile(rf"(?:{_FIGURE_WORDS})\s+[IVXLC\d]+(?:\.\d+)*[A-Z]?\b")
_CHAPTER = re.compile(rf"(?:{_CHAPTER_WORDS})\s+([IVXLC]+|\d+)\b")
_ROMAN = re.compile(r"([IVXLC]+)\.\s+\S")
_LETTER = re.compile(r"([A-Z])\.\s+\S")
_LETTER_NO_PERIOD = re.compile(r"([A-Z])\s+[A-Z]")
_DIGITS = re.compile(r"(\d{1,2}(?:\.\d{1,2})*)\.?\s+\S")
_ITEM = re.compile(r"\(([a-z]{1,3})\)\s+\S")
_LABEL_RANK = {"chapter": 0, "annex": 0, "roman": 1, "letter": 2, "digit": 3, "item": 5, "none": 6, "figure": 6}
_SECTION_LABELS = ("chapter", "roman", "letter", "digit")


def _label(text: str, previous_letter: str | None) -> tuple[str, str]:
    """(kind, key) of a heading's label; "I." is the letter I when the last letter was H."""
    if m := _ANNEX.match(text):
        return "annex", m.group(0)
    if m := _FIGURE.match(text):
        return "figure", m.group(0)
    if m := _CHAPTER.match(text):
        return "chapter", m.group(1)
    letter = _LETTER.match(text) or _LETTER_NO_PERIOD.match(text)
    if letter and previous_letter and ord(letter.group(1)) == ord(previous_letter) + 1:
        return "letter", letter.group(1)
    for kind, pattern in (("roman", _ROMAN), ("letter", _LETTER), ("digit", _DIGITS), ("item", _ITEM)):
        if m := pattern.match(text):
            return kind, m.group(1)
    return "none", _MARKERS.sub("", text).strip()


def _classify(block: _Block, previous_letter: str | None) -> None:
    """Set a heading block's label and rank: size first, then bold over italic over plain (the
    first styled line decides: "Chapter III" in 14 points over a title in 12, the bold caption
    under a "Figure I" in plain type), then the label."""
    block.label_kind, block.key = _label(block.text, previous_letter)
    styled = next((ln for ln in block.lines if ln.bold or ln.italic), block.lines[0])
    weight = 0 if styled.bold else 1 if styled.italic else 2
    depth = block.key.count(".") / 10 if block.label_kind == "digit" else 0  # 1.1 under 1.
    block.rank = (-round(styled.size), weight, _LABEL_RANK[block.label_kind] + depth)


# --- line joining -------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# The line ends in a web address (or a piece of one): a hyphen there is the address's.
_URL = re.compile(r"(?:https?://|www\.|/)\S*$")


class _Vocabulary:
    """The document's own words, to tell a word broken at a line end ("crimi-" "nal") from a
    compound that breaks at its hyphen ("non-" "governmental").

    ``join`` decides by evidence: the joined word written elsewhere more often than the
    hyphenated one means a broken word; the hyphenated form written elsewhere, a compound. With
    no evidence either way it follows the document's habit, measured on the cases that had
    evidence: in a document that breaks words at line ends, a join when neither half is a word
    of its own; in any other, the hyphen stays (UN reports are not hyphenated, so "twenty-"
    "ninth" at a line end is "twenty-ninth").
    """

    def __init__(self, lines: list[str]):
        self.words: Counter = Counter()
        previous_hyphen = False
        for text in lines:
            words = _WORD.findall(text.lower())
            if previous_hyphen and words:
                words = words[1:]  # the second half of a line-end break is no word of its own
            previous_hyphen = _ends_with_hyphen(text)
            if previous_hyphen and words:
                words = words[:-1]
            self.words.update(words)
            self.words.update(part for w in words if "-" in w for part in w.split("-"))
        evidence = Counter(self._evidence(a, b) for a, b in zip(lines, lines[1:], strict=False)
                           if _ends_with_hyphen(a))
        self.hyphenates = evidence["broken"] > evidence["compound"]

    def join(self, left: str, right: str) -> str:
        """``left`` and ``right``, consecutive lines of one unit, as one text."""
        if not left or not right:
            return left or right
        if not _ends_with_hyphen(left):
            return f"{left} {right}"
        left = re.sub(r"(?<=\w) (-)$", r"\1", left)  # "drug -": a space pdfium read into the break
        if left.endswith("\u00ad"):  # a soft hyphen marks a break point, nothing else
            return left[:-1] + right
        halves = self._halves(left, right)
        if halves is None:
            return left + right  # "non-" "State", "2021-" "2025", a web address: a real hyphen
        evidence = self._evidence(left, right)
        if evidence == "broken" or (evidence == "none" and self.hyphenates
                                    and not self.words[halves[0]] and not self.words[halves[1]]):
            return left[:-1] + right
        return left + right

    @staticmethod
    def _halves(left: str, right: str) -> tuple[str, str] | None:
        head = re.search(r"([^\W\d_]+) ?-$", left)
        tail = re.match(r"[^\W\d_]+", right)
        if not head or not tail or not tail.group(0)[0].islower() or _URL.search(left):
            return None
        return head.group(1).lower(), tail.group(0).lower()

    def _evidence(self, left: str, right: str) -> str:
        halves = self._halves(left, right)
        if halves is None:
            return "none"
        joined, hyphenated = self.words["".join(halves)], self.words["-".join(halves)]
        return "broken" if joined > hyphenated else "compound" if hyphenated else "none"


def _ends_with_hyphen(text: str) -> bool:
    return bool(re.search(r"(?:[^\W_] ?-|\u00ad)$", text))


def _joined(lines: list[Line], vocab: _Vocabulary) -> str:
    text = ""
    for line in lines:
        text = vocab.join(text, line.text)
    return re.sub(r"\s+", " ", text).strip()


# --- the walk -----------------------------------------------------------------------------------


@dataclass
class _Unit:
    """A paragraph, or a block of a part, being read."""

    lines: list[Line]
    number: int  # 0: an unnumbered block of a part
    section: tuple[str, ...]


@dataclass
class _OpenPart:
    kind: str  # "annex", "figure" or "text"
    heads: list[_Block]  # the headings that opened it
    rank: tuple
    section: tuple[str, ...]  # the report's section path where it stands
    after: int | None
    stack: list[tuple[tuple, str, str]] = field(default_factory=list)  # its own headings: rank, key, title
    headings: list[tuple[_Block, tuple[str, ...], str, int]] = field(default_factory=list)
    units: list[_Unit] = field(default_factory=list)
    last_number: int | None = None
    open: _Unit | None = None
    #: For a figure: the report paragraph it interrupts, should the paragraph run on after it.
    resume: _Unit | None = None

    def section_path(self) -> tuple[str, ...]:
        return (*self.section, " ".join(h.text for h in self.heads), *(s[2] for s in self.stack))


@dataclass
class _Walk:
    measures: _Measures
    source: str
    front: list[_Block] = field(default_factory=list)
    stack: list[tuple[tuple, str, str, _Block]] = field(default_factory=list)  # rank, key, title, block
    headings: list[tuple[_Block, tuple[str, ...], str, int]] = field(default_factory=list)
    paragraphs: list[_Unit] = field(default_factory=list)
    parts: list[_OpenPart] = field(default_factory=list)
    part: _OpenPart | None = None
    open: _Unit | None = None  # the paragraph text runs on into
    pending: list[_Block] = field(default_factory=list)  # headings read since the last text
    last_letter: str | None = None

    @property
    def expected(self) -> int:
        return self.paragraphs[-1].number + 1 if self.paragraphs else 1

    @property
    def last_number(self) -> int | None:
        return self.paragraphs[-1].number if self.paragraphs else None

    def section(self) -> tuple[str, ...]:
        return tuple(s[2] for s in self.stack)


def _walk(blocks: list[_Block], m: _Measures, source: str) -> _Walk:
    w = _Walk(m, source)
    first = next((i for i, b in enumerate(blocks) if b.kind == "numbered" and b.number == 1), None)
    if first is None:
        raise PdfParseError(blocks[-1].page if blocks else 1,
                            "no numbered paragraph (no line starts with '1.' and a tab at the text's left "
                            "margin; is this a UN report?)", source=source)
    # The body starts with the headings right above paragraph 1, from the first with a section
    # label ("I. Introduction", not the title above it); with none labelled, the last one.
    run = first
    while run > 0 and blocks[run - 1].kind == "heading":
        run -= 1
    labelled = [i for i in range(run, first) if _label(blocks[i].text, None)[0] in _SECTION_LABELS]
    start = labelled[0] if labelled else max(run, first - 1)
    w.front = blocks[:start]
    for block in blocks[start:]:
        if block.kind == "heading":
            _on_heading(w, block)
        elif block.kind == "numbered":
            _on_numbered(w, block)
        else:
            _on_text(w, block)
    _close_part(w)
    return w


def _on_heading(w: _Walk, block: _Block) -> None:
    interrupted, w.open = w.open, None
    part = w.part
    if part is not None and part.kind == "annex" and not _ANNEX.match(block.text):
        _part_heading(part, block)
        return
    _classify(block, w.last_letter)
    if block.label_kind == "letter":
        w.last_letter = block.key
    elif block.label_kind in ("roman", "chapter"):
        w.last_letter = None
    if block.label_kind == "annex":
        _close_part(w)
        w.part = _OpenPart("annex", [block], block.rank, w.section(), w.last_number)
        w.pending = []
        return
    if part is not None and block.rank > part.rank:
        _part_heading(part, block)
        return
    if block.label_kind == "figure":  # a figure, map or table is a part from its label on
        resume = interrupted if part is None else part.resume
        _close_part(w)
        w.part = _OpenPart("figure", [block], block.rank, w.section(), w.last_number, resume=resume)
        w.pending = []
        return
    _close_part(w)
    while w.stack and w.stack[-1][0] >= block.rank:
        w.stack.pop()
    w.stack.append((block.rank, block.key, block.text, block))
    w.headings.append((block, w.section(), ".".join(s[1] for s in w.stack), len(w.stack)))
    w.pending.append(block)


def _part_heading(part: _OpenPart, block: _Block) -> None:
    part.open = None
    if not block.rank:
        _classify(block, None)
    while part.stack and part.stack[-1][0] >= block.rank:
        part.stack.pop()
    part.stack.append((block.rank, block.key, block.text))
    part.headings.append((block, part.section_path(), ".".join(s[1] for s in part.stack), len(part.stack)))


def _on_numbered(w: _Walk, block: _Block) -> None:
    n, part = block.number, w.part
    if part is not None:
        continues_part = part.last_number is not None and n == part.last_number + 1
        if part.kind == "annex" or continues_part or n != w.expected:
            _part_item(part, block)
            return
        _close_part(w)
    if n == w.expected:
        w.pending = []
        w.open = _Unit([block.lines[0]], n, w.section())
        w.paragraphs.append(w.open)
    elif w.pending and n == 1:  # headings, then a list numbered from 1: a text of its own
        _open_part(w)
        _part_item(w.part, block)
    elif w.expected < n <= w.expected + 2:
        raise PdfParseError(block.page, f"paragraph numbering skips from {w.expected - 1} to {n}", block.text,
                            source=w.source)
    else:
        _on_text(w, block)  # a number in no sequence is text ("3. …" quoted inside a paragraph)


def _part_item(part: _OpenPart, block: _Block) -> None:
    part.open = _Unit(list(block.lines), block.number, part.section_path())
    part.units.append(part.open)
    part.last_number = block.number


def _on_text(w: _Walk, block: _Block) -> None:
    if w.part is None and w.pending:
        _open_part(w)
    line, m = block.lines[0], w.measures
    if (w.part is not None and w.part.kind == "figure" and w.part.resume is not None
            and _is_body_size(line, m.body_size) and abs(line.x0 - m.margin) <= 3 and line.text[0].islower()):
        # Body text running on in lower case after a figure: the paragraph the figure interrupted.
        resume = w.part.resume
        _close_part(w)
        w.open = resume
    if w.part is not None:
        _part_text(w.part, block, m)
    elif w.open is not None:
        w.open.lines.extend(block.lines)  # the paragraph runs on (after a page break, a list…)
    else:
        raise PdfParseError(block.page, "text outside any numbered paragraph", block.text, source=w.source)


def _part_text(part: _OpenPart, block: _Block, m: _Measures) -> None:
    line = block.lines[0]
    item = _NUMBER.fullmatch(line.words[0].text) if len(line.words) > 1 else None
    if item and line.words[1].x0 - line.words[0].x1 > 0.55 * line.size:
        block.number = int(item.group(1))
        _part_item(part, block)  # an indented numbered item ("1. Decides…")
        return
    if part.open is not None and part.open.number:
        part.open.lines.extend(block.lines)  # a numbered item holds its lists, as a paragraph does
        return
    # Unnumbered text (a preamble, a table, a list) comes in blocks: a new one after a wider
    # gap, or where a line is indented under a full-width line that ended a clause (a
    # first-line indent; a hanging "Source: www…-" line runs on).
    previous = part.open.lines[-1] if part.open is not None and part.open.lines else None
    new = previous is None
    if previous is not None and previous.page != line.page:
        new = line.x0 > m.margin + 3
    elif previous is not None:
        indented = line.x0 > m.margin + 3 >= previous.x0 and previous.text[-1] in _CLAUSE_END
        new = previous.y - line.y > m.space or indented
    if new:
        part.open = _Unit([], 0, part.section_path())
        part.units.append(part.open)
    part.open.lines.extend(block.lines)


_CLAUSE_END = ".,;:!?)”\"’" + _SUPERSCRIPTS


def _open_part(w: _Walk) -> None:
    """The headings just read open a part: those after the last one with a section label (or
    the last heading, when all have one) leave the report's section path."""
    heads = w.pending
    cut = len(heads) - 1
    while cut > 0 and heads[cut - 1].label_kind == "none":
        cut -= 1
    if heads[cut].label_kind != "none":
        cut = len(heads) - 1
    mine = heads[cut:]
    w.stack = [s for s in w.stack if all(s[3] is not h for h in mine)]
    w.headings = [h for h in w.headings if all(h[0] is not b for b in mine)]
    w.part = _OpenPart("text", mine, mine[0].rank, w.section(), w.last_number)
    w.pending = []


def _close_part(w: _Walk) -> None:
    if w.part is not None:
        w.parts.append(w.part)
        w.part = None
    w.open = None


# --- footnotes -----------------------------------------------------------------------------------


@dataclass
class _Note:
    number: int
    page: int
    lines: list[Line]


def _footnotes(notes: list[list[Line]]) -> tuple[list[_Note], list[Line]]:
    """Footnotes in print order, and the zone lines that continue none (cover notes "* …")."""
    found: list[_Note] = []
    loose: list[Line] = []
    for page_lines in notes:
        for line in page_lines:
            if marker := _MARKERS.match(line.text):
                first = replace(line, text=line.text[marker.end():].lstrip())
                found.append(_Note(int(marker.group(0).translate(PLAIN_DIGITS)), line.page, [first]))
            elif found:
                found[-1].lines.append(line)
            else:
                loose.append(line)
    return found, loose


def _markers(lines: list[Line]) -> list[tuple[int, int]]:
    """(page, footnote number) of every marker in these lines."""
    return [(ln.page, int(m.translate(PLAIN_DIGITS))) for ln in lines for m in _MARKERS.findall(ln.text)]


@dataclass
class _Notes:
    report: dict[int, str] = field(default_factory=dict)  # front matter, headings, paragraphs
    paragraph: dict[int, list[str]] = field(default_factory=dict)  # paragraph number -> texts
    part: dict[int, dict[int, str]] = field(default_factory=dict)  # part index -> number -> text


def _assign_notes(w: _Walk, notes: list[_Note], vocab: _Vocabulary) -> _Notes:
    """Each footnote to the unit carrying its marker on the page it is printed on."""
    owners: dict[tuple[int, int], tuple[str, int]] = {}
    for p in w.paragraphs:
        for key in _markers(p.lines):
            owners.setdefault(key, ("paragraph", p.number))
    for i, part in enumerate(w.parts):
        lines = [ln for h in [*part.heads, *(h[0] for h in part.headings)] for ln in h.lines]
        for key in _markers(lines + [ln for u in part.units for ln in u.lines]):
            owners.setdefault(key, ("part", i))
    for block in [*w.front, *(h[0] for h in w.headings)]:
        for key in _markers(block.lines):
            owners.setdefault(key, ("report", 0))
    out = _Notes()
    for note in notes:
        text = _joined(note.lines, vocab)
        owner = owners.get((note.page, note.number))
        for page in range(note.page - 1, 0, -1):  # a marker on an earlier page, if not on this one
            owner = owner or owners.get((page, note.number))
        if owner and owner[0] == "part":
            out.part.setdefault(owner[1], {})[note.number] = text
            continue
        if note.number in out.report:
            raise PdfParseError(note.page, f"footnote {note.number} is printed twice", text, source=w.source)
        out.report[note.number] = text
        if owner and owner[0] == "paragraph":
            out.paragraph.setdefault(owner[1], []).append(text)
    return out


# --- assembly -----------------------------------------------------------------------------------


def parse_pages(pages: list[Page], source: str = "", sha256: str = "") -> Report:
    """The report in these pages. Raises ``PdfParseError`` (a ``ReportParseError``) naming the
    page when they hold no report with numbered paragraphs."""
    if not pages:
        raise PdfParseError(0, "the PDF has no pages", source=source)
    if not any(p.lines for p in pages):
        raise PdfParseError(1, "no text layer (a scanned image?): nothing to read without OCR", source=source)
    m = _measure(pages)
    blocks, zones, dropped = _events(pages, m)
    w = _walk(blocks, m, source)
    notes, loose = _footnotes(zones)
    vocab = _Vocabulary([ln.text for b in blocks for ln in b.lines] + [ln.text for n in notes for ln in n.lines])
    assigned = _assign_notes(w, notes, vocab)
    paragraphs = [_paragraph(u, vocab, assigned.paragraph.get(u.number, [])) for u in w.paragraphs]
    headings = [Heading(label=label, title=block.text, level=level, section=section,
                        paragraphs=tuple(p.number for p in paragraphs if p.section[:len(section)] == section),
                        search_text=search_text(block.text))
                for block, section, label, level in w.headings]
    parts = [_part(part, vocab, assigned.part.get(i, {})) for i, part in enumerate(w.parts)]
    cover = read_cover(pages, [*w.front, *(_Block("text", [ln]) for ln in loose)], m.body_size, m.margin, vocab)
    return with_acronyms(Report(
        title=cover.title, date=cover.date, session=cover.session, agenda_item=cover.agenda_item,
        symbol=cover.symbols[0] if cover.symbols else None, summary=cover.summary,
        front_matter=cover.front_matter, headings=headings, paragraphs=paragraphs,
        footnotes=dict(sorted(assigned.report.items())), sha256=sha256,
        language=detect_language(" ".join(p.text for p in paragraphs)), symbols=cover.symbols,
        parts=parts, source=source, page_furniture=dropped))


def _paragraph(unit: _Unit, vocab: _Vocabulary, footnotes: list[str]) -> Paragraph:
    text = _joined(unit.lines, vocab)
    if unit.number:
        text = text[len(unit.lines[0].words[0].text):].lstrip()  # "N." is the number, not text
    return Paragraph(number=unit.number, text=text, section=unit.section, footnotes=footnotes,
                     search_text=search_text(text), pages=tuple(sorted({ln.page for ln in unit.lines})))


def _part(part: _OpenPart, vocab: _Vocabulary, notes: dict[int, str]) -> Part:
    head = part.heads[0]
    label = head.key if head.label_kind in ("annex", "figure") else (
        m.group(0).rstrip(".:") if (m := _LABEL_ONLY.match(head.text)) else head.text)
    paragraphs = [_paragraph(u, vocab, [notes[n] for _, n in _markers(u.lines) if n in notes]) for u in part.units]
    headings = [Heading(label=key, title=b.text, level=level, section=section, search_text=search_text(b.text),
                        paragraphs=tuple(u.number for u in part.units
                                         if u.number and u.section[:len(section)] == section))
                for b, section, key, level in part.headings]
    pages = {ln.page for h in part.heads for ln in h.lines} | {p for para in paragraphs for p in para.pages}
    return Part(kind=part.kind, label=label, title=" ".join(h.text for h in part.heads), section=part.section,
                after=part.after, headings=headings, paragraphs=paragraphs, footnotes=dict(sorted(notes.items())),
                pages=tuple(sorted(pages)))


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

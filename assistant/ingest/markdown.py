"""Parse the report into its numbered paragraphs, headings, summary and footnotes.

The source is the report as markdown-ish text: headings start with ``#``, numbered paragraphs
with ``N. ``, footnotes are ``<sup>n</sup> text`` lines after a ``---`` rule. A page break
leaves a blank line (and sometimes a footnote) inside a paragraph; the text that follows, with
no number, belongs to the paragraph still open.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from ..records import Heading, Paragraph, Report
from ..text import display_text, footnote_markers, search_text
from .acronyms import with_acronyms
from .language import detect_language

_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_NUMBERED = re.compile(r"^(\d+)\.\s+(.*)$")
_FOOTNOTE = re.compile(r"^<sup>(\d+)</sup>\s*(.*)$")
_RULE = re.compile(r"^-{3,}$")
_ROMAN = re.compile(r"^([IVXL]+)\.\s+\S")
_LETTER = re.compile(r"^([A-Z])\.\s+\S")
_DIGIT = re.compile(r"^(\d+)\.\s+\S")
_DATE = re.compile(r"^\d{1,2}\s+\w+\s+\d{4}$")


class ReportParseError(ValueError):
    """The text does not have the report's structure; ``line`` is 1-based."""

    def __init__(self, line: int, message: str, content: str = ""):
        self.line = line
        shown = f": {content[:80]!r}" if content else ""
        super().__init__(f"line {line}: {message}{shown}")


@dataclass
class _OpenParagraph:
    number: int
    parts: list[str]
    lines: list[int]
    section: tuple[str, ...]


@dataclass
class _State:
    front: list[tuple[int, str]] = field(default_factory=list)
    stack: list[tuple[int, str, str]] = field(default_factory=list)  # (level, key, title)
    headings: list[Heading] = field(default_factory=list)
    paragraphs: list[_OpenParagraph] = field(default_factory=list)
    footnotes: dict[int, tuple[int, str]] = field(default_factory=dict)  # n -> (line, markdown)
    in_body: bool = False
    open: _OpenParagraph | None = None


def parse_report(source: str) -> Report:
    """Parse the report's text. Raises ``ReportParseError`` naming the line it cannot read."""
    st = _State()
    for lineno, raw in enumerate(source.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        heading = _HEADING.match(line)
        title = display_text(heading.group(1)) if heading else ""
        if not st.in_body:
            if heading and _ROMAN.match(title):
                st.in_body = True
            else:
                st.front.append((lineno, line))
                continue
        if heading:
            st.open = None
            _push_heading(st, title, lineno)
        elif m := _FOOTNOTE.match(line):
            n = _number(m.group(1), lineno, line)
            if n in st.footnotes:
                raise ReportParseError(lineno, f"footnote {n} is defined twice", line)
            st.footnotes[n] = (lineno, m.group(2))
        elif _RULE.match(line):
            continue  # the rule above footnotes; page layout, not content
        elif m := _NUMBERED.match(line):
            _start_paragraph(st, _number(m.group(1), lineno, line), m.group(2), lineno, line)
        elif st.open is not None:
            st.open.parts.append(line)  # the rest of a paragraph split by a page break
            st.open.lines.append(lineno)
        else:
            raise ReportParseError(lineno, "text outside any numbered paragraph", line)
    if not st.paragraphs:
        raise ReportParseError(1, "no numbered paragraph found (is this the report?)")
    return _assemble(st, source)


def _number(digits: str, lineno: int, line: str) -> int:
    # No report numbers its paragraphs or notes past a billion, and int() refuses more than
    # 4,300 digits with a ValueError that names no line.
    if len(digits) > 9:
        raise ReportParseError(lineno, f"a paragraph or footnote number of {len(digits)} digits", line)
    return int(digits)


def _push_heading(st: _State, title: str, lineno: int) -> None:
    if m := _ROMAN.match(title):
        level, key = 1, m.group(1)
    elif m := _LETTER.match(title):
        level, key = 2, m.group(1)
    elif m := _DIGIT.match(title):
        level, key = 3, m.group(1)
    else:
        raise ReportParseError(lineno, "a heading without a section label (I., A., 1.)", title)
    while st.stack and st.stack[-1][0] >= level:
        st.stack.pop()
    label = ".".join([s[1] for s in st.stack] + [key])
    st.stack.append((level, key, title))
    section = tuple(s[2] for s in st.stack)
    st.headings.append(Heading(label=label, title=title, level=level, section=section,
                               search_text=search_text(title)))


def _start_paragraph(st: _State, number: int, rest: str, lineno: int, line: str) -> None:
    expected = st.paragraphs[-1].number + 1 if st.paragraphs else 1
    if number < expected:
        raise ReportParseError(lineno, f"paragraph numbering goes backwards ({number} after {expected - 1})",
                               line)
    if number > expected:
        raise ReportParseError(lineno, f"paragraph numbering skips from {expected - 1} to {number}", line)
    if not st.stack:
        raise ReportParseError(lineno, "a numbered paragraph before any section heading", line)
    st.open = _OpenParagraph(number, [rest], [lineno], tuple(s[2] for s in st.stack))
    st.paragraphs.append(st.open)


def _assemble(st: _State, source: str) -> Report:
    markdown = {p.number: " ".join(p.parts) for p in st.paragraphs}
    owner: dict[int, int] = {}
    for number, md in markdown.items():
        for n in footnote_markers(md):
            owner.setdefault(n, number)
    for n, (lineno, _) in st.footnotes.items():
        if n not in owner:
            raise ReportParseError(lineno, f"footnote {n} has no marker in any paragraph")
    missing = set(owner) - set(st.footnotes)
    if missing:
        n = min(missing)
        raise ReportParseError(st.paragraphs[owner[n] - 1].lines[0], f"footnote marker {n} has no footnote text")

    paragraphs = []
    for p in st.paragraphs:
        text = display_text(markdown[p.number])
        notes = [display_text(st.footnotes[n][1]) for n, num in sorted(owner.items()) if num == p.number]
        paragraphs.append(Paragraph(number=p.number, text=text, section=p.section, footnotes=notes,
                                    search_text=search_text(text), lines=tuple(p.lines)))

    headings = [replace(h, paragraphs=tuple(p.number for p in paragraphs
                                            if p.section[:len(h.section)] == h.section))
                for h in st.headings]
    meta = _front_matter(st.front)
    return with_acronyms(Report(paragraphs=paragraphs, headings=headings,
                                footnotes={n: display_text(md) for n, (_, md) in sorted(st.footnotes.items())},
                                sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(), **meta))


def _front_matter(front: list[tuple[int, str]]) -> dict:
    """Title, date, session, agenda item and summary from the lines before section I."""
    lines = [(n, _HEADING.match(s), display_text(_HEADING.sub(r"\1", s))) for n, s in front]
    title = next((t for _, h, t in lines if h and len(t) > 60), "")
    date = next((t for _, h, t in lines if not h and _DATE.match(t)), "")
    session = next((t for _, h, t in lines if not h and t.lower().endswith("session")), "")
    agenda = next((t for _, h, t in lines if not h and t.startswith(("Point", "Item"))), "")
    summary, rest, after_summary_heading = "", [], False
    for _, h, t in lines:
        if h and t.lower() in ("résumé", "summary"):
            after_summary_heading = True
            rest.append(t)
        elif after_summary_heading and not h and not summary:
            summary = t
        else:
            rest.append(t)
    return {"title": title, "date": date, "session": session, "agenda_item": agenda.rstrip("*").strip(),
            "symbol": None, "summary": summary, "front_matter": rest}


def load_text_report(path: str | Path) -> Report:
    """A report in the seed's markdown format; see ``library.load_report``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"report not found: {path}")
    data = path.read_bytes()
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ReportParseError(line, f"not UTF-8 text (byte {data[exc.start]:#04x})") from None
    return _parse_cached(source, path.name)


@lru_cache(maxsize=4)
def _parse_cached(source: str, name: str) -> Report:
    report = parse_report(source)
    text = " ".join(p.text for p in report.paragraphs[:40])
    return replace(report, source=name, language=report.language or detect_language(text))

"""Read a UN report published as PDF into the project's typed records.

``load_pdf(path)`` -> ``Report``. pypdfium2 gives every character with its box, baseline, font
size and font name; ``_lines`` rebuilds the printed lines from them (superscript markers joined
to the line they mark, columns kept apart); ``structure.parse_pages`` reads the report in those
lines.

Why pypdfium2 (measured on the ten sample reports; CPU seconds a report, 2 shared cores):

- pypdfium2 (PDFium, Chrome's PDF engine, through ctypes): 0.11 s for the text, 0.9 s with every
  character's position, size and font plus the structure rules. It spaces words as printed (one
  word split by a stray space in the ten reports), marks line-end hyphens and keeps the reading
  order. One 3 MB wheel, no dependencies, BSD-3/Apache-2.0, releases follow PDFium's.
- poppler's ``pdftotext``: as fast, but no PyPI package (Debian's poppler-utils, a subprocess,
  GPL) and it splits 25 words of justified lines ("an d services", "Palesti nian", "terror
  ist"); ``-bbox`` gives word boxes but no font size or name, which footnotes and headings need.
- pypdf (pure Python): spaces well (2 split words) but 2.8 s a report (25x); positions and fonts
  only through a visitor callback.
- pdfplumber (pdfminer.six): every character's font and position, no split word, but 7.2 s a
  report (65x), and it pulls pdfminer.six, cryptography and Pillow (and pypdfium2 itself).
"""

from __future__ import annotations

import ctypes
from collections import Counter
from functools import lru_cache
from pathlib import Path

from ..records import Report
from .layout import SUPERSCRIPT_DIGITS, Line, Page, Word
from .structure import PdfParseError, parse_pages, sha256_of

# A row of smaller characters this close above (or below) a line's baseline belongs to that
# line: footnote markers are raised about 0.35 of the font size.
_RAISED_MAX = 0.6
_LOWERED_MAX = 0.4
_SMALLER = 0.85
# The longest superscript or subscript run (footnote numbers, "th", "***").
_MARKER_MAX = 4
# Characters on one baseline further apart than this many font sizes are separate lines (the
# cover's two columns, a header's page number and job number, table columns far apart).
_COLUMN_GAP = 2.5
# Glyph boxes inside a word are up to ~0.22 of the font size apart (justified lines); pdfium
# gives the spaces, this only catches a gap it left without one.
_WORD_GAP = 0.35
# pdfium writes a line-end hyphen as U+0002 or U+FFFE (and joins the lines); it is a hyphen
# as printed.
_PDFIUM_HYPHENS = (0x02, 0xFFFE)


class PdfReadError(ValueError):
    """The file is not a PDF pdfium can open (not a PDF, damaged, or encrypted)."""


def read_pages(source: str | Path | bytes) -> list[Page]:
    """Every page's lines, top to bottom, from a path or the file's bytes. Raises
    ``PdfReadError`` if pdfium cannot open it."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    except pdfium.PdfiumError as exc:
        raise PdfReadError(str(exc)) from exc
    try:
        return [_read_page(doc[i], i + 1) for i in range(len(doc))]
    finally:
        doc.close()


def _read_page(page, number: int) -> Page:
    import pypdfium2.raw as raw

    width, height = page.get_size()
    textpage = page.get_textpage()
    tp = textpage.raw
    count = raw.FPDFText_CountChars(tp)
    codes = _codes(raw, tp, count)
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    ox, oy = ctypes.c_double(), ctypes.c_double()
    buf = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    fonts: dict[bytes, tuple[str, bool, bool]] = {}
    get_box, get_origin = raw.FPDFText_GetCharBox, raw.FPDFText_GetCharOrigin
    get_font, get_size = raw.FPDFText_GetFontInfo, raw.FPDFText_GetFontSize
    # A character is a plain tuple (a page holds thousands):
    # (text, left, right, baseline, font size, font name, bold, italic).
    chars: list[tuple[str, float, float, float, float, str, bool, bool]] = []
    for i, code in enumerate(codes):
        if code in (10, 13):  # pdfium's own line breaks; lines are rebuilt from positions
            continue
        get_box(tp, i, left, right, bottom, top)
        get_origin(tp, i, ox, oy)
        if code == 32:  # a space needs a place, not a font
            chars.append((" ", left.value, right.value, oy.value, 0.0, "", False, False))
            continue
        if code in _PDFIUM_HYPHENS:
            code = 0x2D
        get_font(tp, i, buf, 128, flags)
        key = buf.value
        if key not in fonts:
            name = key.decode("latin-1").split("+")[-1]
            low = name.lower()
            fonts[key] = (name, "bold" in low or "black" in low or "heavy" in low,
                          "italic" in low or "oblique" in low)
        name, bold, italic = fonts[key]
        chars.append((chr(code), left.value, right.value, oy.value, get_size(tp, i), name, bold, italic))
    textpage.close()
    page.close()
    return Page(number, width, height, tuple(_lines(chars, number)))


def _codes(raw, tp, count: int) -> list[int]:
    """The page's character codes in one call (UTF-16, one unit a character unless a
    character lies outside the Basic Multilingual Plane: then one call each)."""
    buffer = (ctypes.c_ushort * (count + 1))()
    raw.FPDFText_GetText(tp, 0, count, buffer)
    codes = list(buffer[:count])
    if any(0xD800 <= c <= 0xDFFF for c in codes):
        codes = [raw.FPDFText_GetUnicode(tp, i) for i in range(count)]
    return codes


def _lines(chars, page: int) -> list[Line]:
    """Group characters into lines: by baseline, small raised or lowered rows joined to the
    line they belong to, then split where a wide gap separates columns."""
    rows: list[_Row] = []
    for ch in sorted(chars, key=lambda c: -c[3]):
        if rows and abs(rows[-1].chars[0][3] - ch[3]) <= 1.0:
            rows[-1].chars.append(ch)
        else:
            rows.append(_Row([ch]))
    for row in rows:
        row.measure()
    # Rows of small characters (superscripts, subscripts) go to the nearest full-size row.
    hosts: dict[int, list[_Row]] = {}
    kept = []
    for i, row in enumerate(rows):
        host = _host_row(row, rows[max(0, i - 4):i + 5])
        if host is None:
            kept.append(row)
        else:
            hosts.setdefault(id(host), []).append(row)
    lines = []
    for row in kept:
        chars_ = row.chars + [c for small in hosts.get(id(row), ()) for c in small.chars]
        for segment in _segments(sorted(chars_, key=lambda c: c[1]), row.size):
            line = _line(segment, page, row.y, row.size)
            if line is not None:
                lines.append(line)
    lines.sort(key=lambda ln: (-ln.y, ln.x0))
    return lines


class _Row:
    __slots__ = ("chars", "y", "size", "x0", "x1")

    def __init__(self, chars):
        self.chars = chars

    def measure(self) -> None:
        sizes = Counter(round(c[4], 1) for c in self.chars if c[0] != " ")
        self.size = sizes.most_common(1)[0][0] if sizes else round(self.chars[0][4], 1)
        # The baseline of the row's main-size characters (a raised marker may share the row).
        main = [c[3] for c in self.chars if abs(c[4] - self.size) < 0.6] or [self.chars[0][3]]
        self.y = Counter(round(y, 1) for y in main).most_common(1)[0][0]
        self.x0 = min(c[1] for c in self.chars)
        self.x1 = max(c[2] for c in self.chars)


def _host_row(row: _Row, nearby: list[_Row]) -> _Row | None:
    """The full-size row a row of markedly smaller characters sits on (superscripts) or hangs
    from (subscripts), or None when the row is a line of its own. A marker is short ("¹²",
    "*", "th") and touches the text it marks; a small date beside a large title is neither."""
    if not _short_runs(row):
        return None
    best, best_dy = None, None
    for other in nearby:
        if other is row or row.size > _SMALLER * other.size:
            continue
        dy = row.y - other.y
        if not -_LOWERED_MAX * other.size <= dy <= _RAISED_MAX * other.size:
            continue
        reach = 1.5 * other.size  # a footnote's number stands a tab before its text
        if not all(any(c[1] - reach <= h[2] and h[1] <= c[2] + reach for h in other.chars)
                   for c in row.chars if c[0] != " "):
            continue
        if best_dy is None or abs(dy) < best_dy:
            best, best_dy = other, abs(dy)
    return best


def _short_runs(row: _Row) -> bool:
    run, last = 0, None
    for c in sorted(row.chars, key=lambda c: c[1]):
        if c[0] == " " or (last is not None and c[1] - last > _WORD_GAP * row.size):
            run = 0
        if c[0] != " ":
            run += 1
            last = c[2]
            if run > _MARKER_MAX:
                return False
    return True


def _segments(row, size):
    """Split a row where a gap wider than a few font sizes (of the text after it) opens."""
    segment = [row[0]]
    last_right = row[0][2] if row[0][0] != " " else None
    for ch in row[1:]:
        if ch[0] != " ":
            if last_right is not None and ch[1] - last_right > _COLUMN_GAP * min(ch[4], size):
                yield segment
                segment = []
            last_right = ch[2]
        segment.append(ch)
    yield segment


def _line(segment, page: int, y: float, size: float) -> Line | None:
    inked = [c for c in segment if c[0] != " "]
    if not inked:
        return None
    words: list[Word] = []
    text, x0, x1 = "", 0.0, 0.0
    after_marker = False
    normal = []
    for ch in segment:
        if ch[0] == " ":
            if text:
                words.append(Word(text, x0, x1))
                text = ""
            continue
        raised = ch[4] <= _SMALLER * size and ch[3] - y >= 0.2 * size
        glyph = ch[0].translate(SUPERSCRIPT_DIGITS) if raised and ch[0].isdigit() else ch[0]
        if not raised:
            normal.append(ch)
        # A word also ends where a footnote marker is followed by text ("munitions⁴ to") and
        # where a gap wider than a third of the font size stands without a space character.
        if text and ((after_marker and not raised) or ch[1] - x1 > _WORD_GAP * size):
            words.append(Word(text, x0, x1))
            text = ""
        if not text:
            x0 = ch[1]
        text += glyph
        x1 = ch[2]
        after_marker = raised and ch[0].isdigit()
    if text:
        words.append(Word(text, x0, x1))
    joined: list[Word] = []
    for w in words:
        # A footnote marker set off by a space ("persons ¹ .") is attached to its word, and
        # the punctuation after it to the marker.
        if joined and (_is_superscript_run(w.text)
                       or w.text[0] in ".,;:)" and joined[-1].text[-1] in "⁰¹²³⁴⁵⁶⁷⁸⁹"):
            prev = joined.pop()
            joined.append(Word(prev.text + w.text, prev.x0, w.x1))
        else:
            joined.append(w)
    styled = normal or inked
    font = Counter(c[5] for c in styled).most_common(1)[0][0]
    return Line(page=page, y=y, x0=joined[0].x0, x1=joined[-1].x1, size=size,
                bold=all(c[6] for c in styled), italic=all(c[7] for c in styled),
                text=" ".join(w.text for w in joined), words=tuple(joined), font=font)


def _is_superscript_run(text: str) -> bool:
    return all(c in "⁰¹²³⁴⁵⁶⁷⁸⁹" for c in text)


def load_pdf(path: str | Path) -> Report:
    """The report in a PDF file (a UN report as published: numbered paragraphs, headings,
    footnotes). Raises ``FileNotFoundError``, or ``PdfParseError`` (a ``ReportParseError``)
    naming the page when the file is not a readable PDF or holds no numbered paragraphs.
    Cached per file content."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"report not found: {path}")
    return _parse_cached(path.read_bytes(), path.name)


@lru_cache(maxsize=4)
def _parse_cached(data: bytes, name: str) -> Report:
    if not data:
        raise PdfParseError(0, "the file is empty", source=name)
    try:
        pages = read_pages(data)
    except PdfReadError as exc:
        if "password" in str(exc).lower():
            raise PdfParseError(0, "the PDF is encrypted: it cannot be read without its password",
                                source=name) from exc
        raise PdfParseError(0, f"not a readable PDF ({exc})", source=name) from exc
    return parse_pages(pages, source=name, sha256=sha256_of(data))
